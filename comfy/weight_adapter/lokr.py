"""ComfyUI's `comfy.weight_adapter.lokr`, as faces: Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"

LoKrAdapter = unsupported_class(__name__, 'LoKrAdapter', 'loaded_keys, weights', _REASON)
LokrDiff = unsupported_class(__name__, 'LokrDiff', 'weights', _REASON)
