"""ComfyUI's `comfy.weight_adapter.loha`, as faces: Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"

HadaWeight = unsupported_class(__name__, 'HadaWeight', None, _REASON)
HadaWeightTucker = unsupported_class(__name__, 'HadaWeightTucker', None, _REASON)
LoHaAdapter = unsupported_class(__name__, 'LoHaAdapter', 'loaded_keys, weights', _REASON)
LohaDiff = unsupported_class(__name__, 'LohaDiff', 'weights', _REASON)
