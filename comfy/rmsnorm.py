"""RMS normalisation (ComfyUI's `comfy.rmsnorm`): torch's own `RMSNorm` module and `rms_norm` function, with the
weight cast to the input's dtype and device."""

from __future__ import annotations

import torch

import comfy.model_management

RMSNorm = torch.nn.RMSNorm


def rms_norm(x: torch.Tensor, weight: torch.Tensor | None = None, eps: float = 1e-6) -> torch.Tensor:
    """`x` divided by the root mean square of its last dimension (plus `eps`), times `weight` when given."""
    if weight is None:
        return torch.nn.functional.rms_norm(x, (x.shape[-1],), eps=eps)
    weight = comfy.model_management.cast_to(weight, dtype=x.dtype, device=x.device)
    return torch.nn.functional.rms_norm(x, weight.shape, weight=weight, eps=eps)
