"""FreeU (Si et al. 2023, "FreeU: Free Lunch in Diffusion U-Net", arXiv 2309.11497) and its second version.

Both are UNet `output_block_patch`es (run by `comfy.unet_blocks`): before an output block whose incoming
features `h` [B, C, H, W] have 4x or 2x the model's base channel count, the first half of `h`'s channels is
amplified (by b1 or b2; FreeU_V2 weights the factor by each position's normalised channel mean) and the skip
connection `hsp` has its lowest frequencies (the 2x2 around the centre of its shifted spectrum) scaled by s1 or
s2.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["NODE_CLASS_MAPPINGS", "Fourier_filter", "FreeU", "FreeU_V2"]


def Fourier_filter(x: torch.Tensor, threshold: int, scale: float) -> torch.Tensor:  # noqa: N802 - ComfyUI's name
    """`x` [B, C, H, W] with the centred (2·threshold)² block of its 2-D spectrum (zero frequency shifted to
    (H // 2, W // 2)) multiplied by `scale`; computed in float32, returned in `x`'s dtype."""
    spectrum = torch.fft.fftshift(torch.fft.fftn(x.float(), dim=(-2, -1)), dim=(-2, -1))
    row, column = spectrum.shape[-2] // 2, spectrum.shape[-1] // 2
    rows, columns = slice(row - threshold, row + threshold), slice(column - threshold, column + threshold)
    spectrum[..., rows, columns] = spectrum[..., rows, columns] * scale
    filtered = torch.fft.ifftn(torch.fft.ifftshift(spectrum, dim=(-2, -1)), dim=(-2, -1)).real
    return filtered.to(x.dtype)


def _base_channels(model: Any) -> int:
    """The UNet's first-level width (ComfyUI's `model_channels`)."""
    config = getattr(model.model.diffusion_model, "config", None)
    channels = getattr(config, "block_out_channels", None)
    if not channels:
        raise ValueError("FreeU patches a UNet model (SD1.x, SD2.x, SDXL); this model has no UNet levels.")
    return int(channels[0])


def _skip_filter() -> Callable[[torch.Tensor, float], torch.Tensor]:
    """`Fourier_filter(hsp, 1, scale)` on hsp's device, or on the CPU for devices without torch.fft (remembered
    after the first failure)."""
    cpu_only: set[torch.device] = set()

    def apply(hsp: torch.Tensor, scale: float) -> torch.Tensor:
        if hsp.device not in cpu_only:
            try:
                return Fourier_filter(hsp, threshold=1, scale=scale)
            except RuntimeError:
                logging.warning("Device %s does not support the torch.fft functions used in the FreeU node, "
                                "switching to CPU.", hsp.device)
                cpu_only.add(hsp.device)
        return Fourier_filter(hsp.cpu(), threshold=1, scale=scale).to(hsp.device)

    return apply


def _freeu_inputs(b1: float, b2: float) -> dict:
    def factor(default: float) -> tuple:
        return ("FLOAT", {"default": default, "min": 0.0, "max": 10.0, "step": 0.01})

    return {"required": {"model": ("MODEL",), "b1": factor(b1), "b2": factor(b2), "s1": factor(0.9),
                         "s2": factor(0.2)}}


def _freeu_patched(model: Any, b1: float, b2: float, s1: float, s2: float,
                   backbone_factor: Any) -> tuple[Any]:
    """`model` with FreeU's output-block patch: at the two deepest widths (4x and 2x the base channels) the
    first half of the backbone features is scaled by `backbone_factor(h, b)` and the skip connection's low
    frequencies by s."""
    channels = _base_channels(model)
    scales = {channels * 4: (b1, s1), channels * 2: (b2, s2)}
    skip_filter = _skip_filter()

    def output_block_patch(h: torch.Tensor, hsp: torch.Tensor, transformer_options: dict) -> tuple:
        scale = scales.get(int(h.shape[1]))
        if scale is not None:
            half = h.shape[1] // 2
            h = torch.cat([h[:, :half] * backbone_factor(h, scale[0]), h[:, half:]], dim=1)
            hsp = skip_filter(hsp, scale[1])
        return h, hsp

    patched = model.clone()
    patched.set_model_output_block_patch(output_block_patch)
    return (patched,)


def _constant_factor(h: torch.Tensor, b: float) -> float:
    return b


def _strength_weighted_factor(h: torch.Tensor, b: float) -> torch.Tensor:
    """From 1 to b at each position with the channel mean of `h`, normalised to 0..1 per image."""
    mean = h.mean(1, keepdim=True)  # [B, 1, H, W]
    flat = mean.view(mean.shape[0], -1)
    low = flat.min(dim=-1).values.view(-1, 1, 1, 1)
    high = flat.max(dim=-1).values.view(-1, 1, 1, 1)
    mean = (mean - low) / (high - low)
    return (b - 1) * mean + 1


class FreeU:
    """Backbone features amplified by a constant factor per level."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:  # noqa: N802 - ComfyUI's contract
        return _freeu_inputs(1.1, 1.2)

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "model_patches/unet"

    def patch(self, model: Any, b1: float, b2: float, s1: float, s2: float) -> tuple[Any]:
        return _freeu_patched(model, b1, b2, s1, s2, _constant_factor)


class FreeU_V2:  # noqa: N801 - ComfyUI's name
    """Backbone features amplified where the features are strong: the factor runs from 1 to b at each position
    with the channel mean of `h`, normalised to 0..1 per image."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:  # noqa: N802 - ComfyUI's contract
        return _freeu_inputs(1.3, 1.4)

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "model_patches/unet"

    def patch(self, model: Any, b1: float, b2: float, s1: float, s2: float) -> tuple[Any]:
        return _freeu_patched(model, b1, b2, s1, s2, _strength_weighted_factor)


NODE_CLASS_MAPPINGS = {
    "FreeU": FreeU,
    "FreeU_V2": FreeU_V2,
}
