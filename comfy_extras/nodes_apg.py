"""ComfyUI's `comfy_extras.nodes_apg`, as faces: Kiln does not implement this `nodes_apg` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_apg` node yet'

APG = unsupported_class(__name__, 'APG', None, _REASON)
ApgExtension = unsupported_class(__name__, 'ApgExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
project = unsupported_function(__name__, 'project', 'v0, v1', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
