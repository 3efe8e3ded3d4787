"""ComfyUI's `comfy.weight_adapter.lora`: `LoRAAdapter`, the low-rank patch packs build and pass to
`ModelPatcher.add_patches` (`{key: LoRAAdapter(loaded_keys, (up, down, alpha, mid, dora_scale, reshape))}`).
Kiln applies it with its own arithmetic (comfy.lora); LoCon mid weights and DoRA scales are not supported yet.
The training class is a face (comfy/unsupported.py).
"""

from __future__ import annotations

from typing import Any

import torch

from comfy.unsupported import unsupported_class
from comfy.weight_adapter.base import WeightAdapterBase

_REASON = "Kiln applies LoRA-family weights with its own code (comfy.lora), not ComfyUI's weight adapters"



class LoRAAdapter(WeightAdapterBase):
    """`strength * alpha / rank * up @ down` added to a weight (no alpha: alpha = rank)."""

    name = "lora"

    def __init__(self, loaded_keys: set[str], weights: tuple[Any, ...]):
        self.loaded_keys = loaded_keys
        self.weights = weights

    def low_rank(self) -> tuple[torch.Tensor, torch.Tensor, float | None]:
        """(up, down, alpha), Kiln's low-rank patch (comfy.lora.weight_delta)."""
        up, down, alpha, *extra = self.weights
        if any(part is not None for part in extra):
            raise NotImplementedError("a LoRAAdapter with a LoCon mid weight, a DoRA scale or a reshape is not "
                                      "supported by Kiln yet")
        return up, down, None if alpha is None else float(alpha)

    def calculate_weight(self, weight, key, strength, strength_model, offset, function, intermediate_dtype=None,
                         original_weights=None):
        from comfy.lora import add_weight_patches

        patch = (strength, self, strength_model, offset, function)
        return add_weight_patches([patch], weight.float(), weight.shape).to(weight.dtype)
LoraDiff = unsupported_class(__name__, 'LoraDiff', 'weights', _REASON)
