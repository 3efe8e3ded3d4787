"""Sampler previews: turn the current x0 estimate into a small image for the client every step.

`--preview-method latent2rgb` (and `auto`) projects the latent channels to RGB with the family's factors;
`taesd` decodes with the family's tiny autoencoder from models/vae_approx (`comfy.taesd`), falling back to
latent2rgb without one; `none` sends no previews. The preview travels with the step's progress update as `("JPEG", image, max_size)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from PIL import Image

import comfy.utils
import folder_paths
from comfy.cli_args import LatentPreviewMethod, args
from comfy.taesd.taesd import TAESD

MAX_PREVIEW_RESOLUTION = args.preview_size


def preview_to_image(latent_image: torch.Tensor) -> Image.Image:
    """An image [H, W, 3] in [-1, 1] as an 8-bit picture."""
    pixels = ((latent_image + 1.0) / 2.0).clamp(0, 1).mul(0xFF)
    return Image.fromarray(pixels.to(device="cpu", dtype=torch.uint8).numpy())


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
        # a video latent [B, C, T, H, W] previews its first frame, as ComfyUI's does
        latent = (x0[0, :, 0] if x0.ndim == 5 else x0[0]).float().cpu().movedim(0, -1)
        rgb = latent @ self.factors
        if self.bias is not None:
            rgb = rgb + self.bias
        pixels = ((rgb + 1.0) / 2.0).clamp(0, 1).mul(255).to(torch.uint8).numpy()
        return Image.fromarray(pixels)


class TAESDPreviewerImpl(LatentPreviewer):
    """Previews decoded by a TAESD (the first latent of the batch)."""

    def __init__(self, taesd: TAESD):
        self.taesd = taesd

    def decode_latent_to_preview(self, x0: torch.Tensor) -> Image.Image:
        return preview_to_image(self.taesd.decode(x0[:1])[0].movedim(0, 2))


def _taesd_decoder_path(latent_format: Any) -> str | None:
    """models/vae_approx/<the family's decoder name>* (the first such file), or None."""
    name = getattr(latent_format, "taesd_decoder_name", None)
    if name is None:
        return None
    found = next((file for file in folder_paths.get_filename_list("vae_approx") if file.startswith(name)), None)
    return folder_paths.get_full_path("vae_approx", found) if found else None


def get_previewer(device: torch.device, latent_format: Any) -> LatentPreviewer | None:
    method = args.preview_method
    if method == LatentPreviewMethod.NoPreviews:
        return None
    if method == LatentPreviewMethod.TAESD:
        decoder_path = _taesd_decoder_path(latent_format)
        if decoder_path:
            taesd = TAESD(None, decoder_path, latent_channels=latent_format.latent_channels).to(device)
            return TAESDPreviewerImpl(taesd)
        logging.warning("Warning: TAESD previews enabled, but could not find models/vae_approx/%s",
                        getattr(latent_format, "taesd_decoder_name", None))
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
