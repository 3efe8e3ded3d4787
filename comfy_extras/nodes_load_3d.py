"""ComfyUI's `comfy_extras.nodes_load_3d`, as faces: Kiln does not implement this `nodes_load_3d` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_load_3d` node yet'

Load3D = unsupported_class(__name__, 'Load3D', None, _REASON)
Load3DAnimation = unsupported_class(__name__, 'Load3DAnimation', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
Preview3D = unsupported_class(__name__, 'Preview3D', None, _REASON)
Preview3DAnimation = unsupported_class(__name__, 'Preview3DAnimation', None, _REASON)
normalize_path = unsupported_function(__name__, 'normalize_path', 'path', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
