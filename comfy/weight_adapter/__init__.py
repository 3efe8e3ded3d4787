"""ComfyUI's `comfy.weight_adapter`, as faces: Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"

adapter_maps = UnsupportedValue(__name__, 'adapter_maps', _REASON)
adapters = UnsupportedValue(__name__, 'adapters', _REASON)
