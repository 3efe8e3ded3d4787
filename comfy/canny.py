"""Canny edge detection in torch, with the conventions of kornia's `canny` (which ComfyUI's Canny node calls):
grey from RGB with weights (0.299, 0.587, 0.114); a 5x5 Gaussian blur of sigma 1 (separable, rows then columns,
reflected borders); the unnormalised Sobel gradient (replicated borders); magnitude sqrt(gx^2 + gy^2 + 1e-6)
with a zero-gradient border around the image; non-maximum suppression along the gradient rounded to 45 degrees
(strictly above the left / upper neighbour, at least the right / lower one, strictly above both along a
diagonal); strict low / high thresholds and hysteresis through the 8 neighbours until nothing changes.

This is an independent implementation of the algorithm as kornia documents it (no kornia dependency); the tests
compare it with ComfyUI's recorded output.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_GREY = (0.299, 0.587, 0.114)
_EPS = 1e-6
# neighbour k of a pixel (k = 0..7 counter-clockwise from the right, in image coordinates: rows down), then itself
_OFFSETS = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 0))


def _grey(image: torch.Tensor) -> torch.Tensor:
    """Luma of [B, 3, H, W]: r*0.299, then + g*0.587 and + b*0.114 as fused multiply-adds (kornia's rounding)."""
    weights = torch.tensor(_GREY, dtype=image.dtype, device=image.device)
    red, green, blue = image.unbind(dim=1)
    grey = red * weights[0]
    grey = torch.addcmul(grey, green, weights[1])
    grey = torch.addcmul(grey, blue, weights[2])
    return grey.unsqueeze(1)


def _gaussian_blur(image: torch.Tensor, size: int = 5, sigma: float = 1.0) -> torch.Tensor:
    x = torch.arange(size, dtype=image.dtype, device=image.device) - size // 2
    kernel = torch.exp(-(x ** 2) / (2.0 * sigma ** 2))
    kernel = kernel / kernel.sum()
    pad = size // 2
    rows = F.conv2d(F.pad(image, (pad, pad, 0, 0), mode="reflect"), kernel.reshape(1, 1, 1, size))
    return F.conv2d(F.pad(rows, (0, 0, pad, pad), mode="reflect"), kernel.reshape(1, 1, size, 1))


def _sobel(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    kernel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=image.dtype,
                            device=image.device)
    kernels = torch.stack([kernel_x, kernel_x.t()]).unsqueeze(1)
    gradients = F.conv2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), kernels)
    return gradients[:, :1], gradients[:, 1:]


def canny(image: torch.Tensor, low_threshold: float, high_threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(magnitude after non-maximum suppression, edges in {0, 1}) of `image` [B, 1 or 3, H, W] (0..1); both
    [B, 1, H, W] float32."""
    image = image.float()
    if image.shape[1] == 3:
        image = _grey(image)
    gx, gy = _sobel(_gaussian_blur(image))
    padded_x, padded_y = F.pad(gx, (1, 1, 1, 1)), F.pad(gy, (1, 1, 1, 1))
    padded = torch.sqrt(padded_x * padded_x + padded_y * padded_y + _EPS)
    height, width = gx.shape[-2:]
    window = torch.stack([padded[..., 1 + dy:1 + dy + height, 1 + dx:1 + dx + width] for dy, dx in _OFFSETS], 2)
    magnitude = window[:, :, 8]
    direction = (torch.nan_to_num(torch.atan2(gy, gx)) * (4 / math.pi)).round()
    forward = (direction % 8).long()
    backward = ((direction + 4) % 8).long()
    neighbours = torch.gather(window, 2, torch.stack([forward, backward], 2))

    def beats(neighbour: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        tie_wins = (index == 0) | (index == 2)  # the right / lower neighbour may equal the pixel
        return (magnitude > neighbour) | (tie_wins & (magnitude == neighbour))

    keep = beats(neighbours[:, :, 0], forward) & beats(neighbours[:, :, 1], backward)
    keep = keep & (magnitude > padded[..., :1, :1])
    magnitude = magnitude * keep
    edges = ((magnitude > low_threshold).float() + (magnitude > high_threshold).float()) * 0.5
    return magnitude, _hysteresis(edges)


def _hysteresis(edges: torch.Tensor) -> torch.Tensor:
    """Weak edges (0.5) touching a strong one (1) through one of the 8 neighbours become strong, repeated until
    nothing changes; what stays weak is dropped."""
    kernels = torch.zeros((8, 1, 3, 3), dtype=edges.dtype, device=edges.device)
    for index, (dy, dx) in enumerate(_OFFSETS[:8]):
        kernels[index, 0, 1 + dy, 1 + dx] = 1.0
    previous = -torch.ones_like(edges)
    while bool((previous - edges).abs().ne(0).any()):
        previous = edges
        weak = (edges == 0.5).to(edges.dtype)
        strong = (edges == 1).to(edges.dtype)
        touches = (F.conv2d(edges, kernels, padding=1) == 1).any(1, keepdim=True).to(edges.dtype)
        grown = touches * weak + strong
        edges = grown + (grown == 0) * weak * 0.5
    return (edges == 1).to(edges.dtype)
