"""ComfyUI's `comfy_extras.nodes_cfg`, as faces: Kiln does not implement this `nodes_cfg` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_cfg` node yet'

CFGNorm = unsupported_class(__name__, 'CFGNorm', None, _REASON)
CFGZeroStar = unsupported_class(__name__, 'CFGZeroStar', None, _REASON)
CfgExtension = unsupported_class(__name__, 'CfgExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
optimized_scale = unsupported_function(__name__, 'optimized_scale', 'positive, negative', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
