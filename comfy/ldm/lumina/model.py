"""Lumina 2's SwiGLU feed-forward layer, as ComfyUI's `comfy.ldm.lumina.model.FeedForward` (the Lumina 2 network
itself, `NextDiT`, is not in Kiln yet)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FeedForward(nn.Module):
    """`w2(silu(w1(x)) * w3(x))` with a hidden width of `ffn_dim_multiplier * hidden_dim` (when given) rounded up
    to a multiple of `multiple_of`; the layers come from `operation_settings["operations"]` (a `comfy.ops` set)
    on its device and dtype."""

    def __init__(self, dim: int, hidden_dim: int, multiple_of: int, ffn_dim_multiplier: float | None,
                 operation_settings: dict | None = None):
        super().__init__()
        settings = operation_settings or {}
        if ffn_dim_multiplier is not None:
            hidden_dim = int(ffn_dim_multiplier * hidden_dim)
        hidden_dim = multiple_of * -(-hidden_dim // multiple_of)
        linear = settings["operations"].Linear
        placement = {"device": settings.get("device"), "dtype": settings.get("dtype")}
        self.w1 = linear(dim, hidden_dim, bias=False, **placement)
        self.w2 = linear(hidden_dim, dim, bias=False, **placement)
        self.w3 = linear(dim, hidden_dim, bias=False, **placement)

    def _forward_silu_gating(self, x1: torch.Tensor, x3: torch.Tensor) -> torch.Tensor:
        return F.silu(x1) * x3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(self._forward_silu_gating(self.w1(x), self.w3(x)))


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln does not carry ComfyUI's `lumina` network code (Kiln's models are diffusers modules)"

FinalLayer = unsupported_class(__name__, 'FinalLayer', 'hidden_size, patch_size, out_channels, operation_settings=', _REASON)
JointAttention = unsupported_class(__name__, 'JointAttention', 'dim, n_heads, n_kv_heads, qk_norm, operation_settings=', _REASON)
JointTransformerBlock = unsupported_class(__name__, 'JointTransformerBlock', 'layer_id, dim, n_heads, n_kv_heads, multiple_of, ffn_dim_multiplier, norm_eps, qk_norm, modulation=, operation_settings=', _REASON)
NextDiT = unsupported_class(__name__, 'NextDiT', 'patch_size=, in_channels=, dim=, n_layers=, n_refiner_layers=, n_heads=, n_kv_heads=, multiple_of=, ffn_dim_multiplier=, norm_eps=, qk_norm=, cap_feat_dim=, axes_dims=, axes_lens=, image_model=, device=, dtype=, operations=', _REASON)
modulate = unsupported_function(__name__, 'modulate', 'x, scale', _REASON)
