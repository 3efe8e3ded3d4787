"""Sampler previews: turn the current x0 estimate into a small image for the client every step.

`--preview-method latent2rgb` (and `auto`) projects the latent channels to RGB with the family's factors;
`none` sends no previews. The preview travels with the step's progress update as `("JPEG", image, max_size)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from PIL import Image

import comfy.utils
from comfy.cli_args import LatentPreviewMethod, args

MAX_PREVIEW_RESOLUTION = args.preview_size


class LatentPreviewer:
    def decode_latent_to_preview_image(self, preview_format: str, x0: torch.Tensor) -> tuple[str, Image.Image, int]:
        return preview_format, self.decode_latent_to_preview(x0), args.preview_size

    def decode_latent_to_preview(self, x0: torch.Tensor) -> Image.Image:
        raise NotImplementedError


class Latent2RGBPreviewer(LatentPreviewer):
    """A linear map from latent channels to RGB: cheap, blurry, good enough to watch a picture form."""

    def __init__(self, latent_rgb_factors: list[list[float]], latent_rgb_factors_bias: list[float] | None = None):
        self.factors = torch.tensor(latent_rgb_factors, dtype=torch.float32)
        self.bias = torch.tensor(latent_rgb_factors_bias, dtype=torch.float32) if latent_rgb_factors_bias else None

    def decode_latent_to_preview(self, x0: torch.Tensor) -> Image.Image:
        latent = x0[0].float().cpu().movedim(0, -1)
        rgb = latent @ self.factors
        if self.bias is not None:
            rgb = rgb + self.bias
        pixels = ((rgb + 1.0) / 2.0).clamp(0, 1).mul(255).to(torch.uint8).numpy()
        return Image.fromarray(pixels)


def get_previewer(device: torch.device, latent_format: Any) -> LatentPreviewer | None:
    method = args.preview_method
    if method == LatentPreviewMethod.NoPreviews:
        return None
    factors = getattr(latent_format, "latent_rgb_factors", None)
    if factors is None:
        return None
    return Latent2RGBPreviewer(factors, getattr(latent_format, "latent_rgb_factors_bias", None))


def prepare_callback(model: Any, steps: int, x0_output_dict: dict | None = None) -> Callable[..., None]:
    """The sampler callback: one progress update per step (with a preview when enabled)."""
    previewer = get_previewer(model.load_device, model.model.latent_format)
    progress = comfy.utils.ProgressBar(steps)

    def callback(step: int, x0: torch.Tensor, x: torch.Tensor, total_steps: int) -> None:
        if x0_output_dict is not None:
            x0_output_dict["x0"] = x0
        preview = previewer.decode_latent_to_preview_image("JPEG", x0) if previewer is not None else None
        progress.update_absolute(step + 1, total_steps, preview)

    return callback
