"""FLUX.1's rotary position embedding and attention, as ComfyUI's `comfy.ldm.flux.math` gives them to packs.

RoPE here is the reference FLUX.1 formulation: each pair of channels (x₀, x₁) of a query or key is rotated by an
angle pos · ω_d, with ω_d = θ^(-2d/dim), written as 2x2 rotation matrices `[B, N, dim/2, 2, 2]`.
"""

from __future__ import annotations

import torch
from torch import Tensor

import comfy.ldm.modules.attention
import comfy.model_management


def rope(pos: Tensor, dim: int, theta: int) -> Tensor:
    """Rotation matrices `[B, N, dim/2, 2, 2]` (float32) for positions `pos` `[B, N]`, the angles computed in
    float64 (on the CPU for devices without it)."""
    if dim % 2:
        raise ValueError(f"rope: dim must be even, got {dim}")
    device = pos.device
    if (comfy.model_management.is_device_mps(device) or comfy.model_management.is_intel_xpu()
            or comfy.model_management.is_directml_enabled()):
        device = torch.device("cpu")
    exponents = torch.linspace(0, (dim - 2) / dim, steps=dim // 2, dtype=torch.float64, device=device)
    angles = torch.einsum("...n,d->...nd", pos.to(dtype=torch.float32, device=device), 1.0 / (theta ** exponents))
    cos, sin = torch.cos(angles), torch.sin(angles)
    matrices = torch.stack([cos, -sin, sin, cos], dim=-1).reshape(*angles.shape, 2, 2)
    return matrices.to(dtype=torch.float32, device=pos.device)


def apply_rope1(x: Tensor, freqs_cis: Tensor) -> Tensor:
    """`x` `[..., dim]` with each channel pair rotated by `freqs_cis` (from `rope`), in `x`'s dtype."""
    pairs = x.to(dtype=freqs_cis.dtype).reshape(*x.shape[:-1], -1, 1, 2)
    rotated = freqs_cis[..., 0] * pairs[..., 0]
    rotated.addcmul_(freqs_cis[..., 1], pairs[..., 1])
    return rotated.reshape(*x.shape).type_as(x)


def apply_rope(xq: Tensor, xk: Tensor, freqs_cis: Tensor) -> tuple[Tensor, Tensor]:
    """Queries and keys rotated by `freqs_cis`."""
    return apply_rope1(xq, freqs_cis), apply_rope1(xk, freqs_cis)


def attention(q: Tensor, k: Tensor, v: Tensor, pe: Tensor | None, mask: Tensor | None = None,
              transformer_options: dict | None = None) -> Tensor:
    """Attention of `[B, heads, N, dim_head]` queries, keys and values after RoPE with `pe` (none when None),
    through `comfy.ldm.modules.attention.optimized_attention`; gives `[B, N, heads * dim_head]`."""
    if pe is not None:
        q = _rotate(q, pe).type_as(v)
        k = _rotate(k, pe).type_as(v)
    return comfy.ldm.modules.attention.optimized_attention(q, k, v, q.shape[1], skip_reshape=True, mask=mask,
                                                           transformer_options=transformer_options or {})


def _rotate(x: Tensor, pe: Tensor) -> Tensor:
    pairs = x.to(dtype=pe.dtype).reshape(*x.shape[:-1], -1, 1, 2)
    return (pe[..., 0] * pairs[..., 0] + pe[..., 1] * pairs[..., 1]).reshape(*x.shape)
