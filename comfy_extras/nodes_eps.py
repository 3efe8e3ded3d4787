"""ComfyUI's `comfy_extras.nodes_eps`, as faces: Kiln does not implement this `nodes_eps` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_eps` node yet'

EpsilonScaling = unsupported_class(__name__, 'EpsilonScaling', None, _REASON)
EpsilonScalingExtension = unsupported_class(__name__, 'EpsilonScalingExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
