"""ComfyUI's `comfy_extras.nodes_controlnet`, as faces: Kiln does not implement this `nodes_controlnet` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln does not implement this `nodes_controlnet` node yet'

ControlNetInpaintingAliMamaApply = unsupported_class(__name__, 'ControlNetInpaintingAliMamaApply', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}
SetUnionControlNetType = unsupported_class(__name__, 'SetUnionControlNetType', None, _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
