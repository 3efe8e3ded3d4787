"""ComfyUI's `comfy.weight_adapter.oft`, as faces: Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"

OFTAdapter = unsupported_class(__name__, 'OFTAdapter', 'loaded_keys, weights', _REASON)
OFTDiff = unsupported_class(__name__, 'OFTDiff', 'weights', _REASON)
