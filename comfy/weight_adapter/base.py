"""ComfyUI's `comfy.weight_adapter.base`, as faces: Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"

WeightAdapterBase = unsupported_class(__name__, 'WeightAdapterBase', None, _REASON)
WeightAdapterTrainBase = unsupported_class(__name__, 'WeightAdapterTrainBase', '', _REASON)
factorization = unsupported_function(__name__, 'factorization', 'dimension, factor=', _REASON)
pad_tensor_to_shape = unsupported_function(__name__, 'pad_tensor_to_shape', 'tensor, new_shape', _REASON)
tucker_weight = unsupported_function(__name__, 'tucker_weight', 'wa, wb, t', _REASON)
tucker_weight_from_conv = unsupported_function(__name__, 'tucker_weight_from_conv', 'up, down, mid', _REASON)
weight_decompose = unsupported_function(__name__, 'weight_decompose', 'dora_scale, weight, lora_diff, alpha, strength, intermediate_dtype, function', _REASON)
