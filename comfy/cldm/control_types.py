"""ComfyUI's `comfy.cldm.control_types`, as faces: Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue

_REASON = "Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks"

UNION_CONTROLNET_TYPES = UnsupportedValue(__name__, 'UNION_CONTROLNET_TYPES', _REASON)
