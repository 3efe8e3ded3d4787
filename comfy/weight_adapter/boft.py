"""ComfyUI's `comfy.weight_adapter.boft`, as faces: Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"

BOFTAdapter = unsupported_class(__name__, 'BOFTAdapter', 'loaded_keys, weights', _REASON)
