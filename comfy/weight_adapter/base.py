"""ComfyUI's `comfy.weight_adapter.base`: the base class of the weight adapters packs pass to
`ModelPatcher.add_patches`. Kiln applies LoRA-family weights with its own code (comfy.lora); the training side and
the other helpers are faces: importable with ComfyUI's kind and signature, raising UnsupportedError when used
(comfy/unsupported.py).
"""

from __future__ import annotations

from typing import Any

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"



class WeightAdapterBase:
    """A patch on one weight, as ComfyUI's adapters are: `name` says the kind, `loaded_keys` the file keys it was
    read from, `weights` its tensors. `calculate_weight` returns the weight with the patch applied."""

    name: str = ""
    loaded_keys: set[str]
    weights: tuple[Any, ...]

    @classmethod
    def load(cls, x: str, lora: dict, alpha: float, dora_scale: Any, loaded_keys: set[str] | None = None):
        raise NotImplementedError(f"{cls.__name__}.load: Kiln reads LoRA files with comfy.lora.load_lora")

    def to_train(self):
        raise NotImplementedError(f"{type(self).__name__}.to_train: Kiln does not train weight adapters")

    def calculate_weight(self, weight, key, strength, strength_model, offset, function, intermediate_dtype=None,
                         original_weights=None):
        raise NotImplementedError(f"{type(self).__name__} is not applied by Kiln")
WeightAdapterTrainBase = unsupported_class(__name__, 'WeightAdapterTrainBase', '', _REASON)
factorization = unsupported_function(__name__, 'factorization', 'dimension, factor=', _REASON)
pad_tensor_to_shape = unsupported_function(__name__, 'pad_tensor_to_shape', 'tensor, new_shape', _REASON)
tucker_weight = unsupported_function(__name__, 'tucker_weight', 'wa, wb, t', _REASON)
tucker_weight_from_conv = unsupported_function(__name__, 'tucker_weight_from_conv', 'up, down, mid', _REASON)
weight_decompose = unsupported_function(__name__, 'weight_decompose', 'dora_scale, weight, lora_diff, alpha, strength, intermediate_dtype, function', _REASON)
