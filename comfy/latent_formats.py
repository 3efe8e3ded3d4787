"""Latent formats: how a model family's VAE latents are scaled into and out of the diffusion model's space.

`process_in` maps a VAE latent to model space before sampling, `process_out` maps the sampled result back.
The RGB factors give a cheap linear latent → RGB preview (`[C, 3]` matrix plus a `[3]` bias).
"""

from __future__ import annotations

import torch


class LatentFormat:
    """Base format: identity scaling, 4 channels, 2 spatial dimensions, no preview factors."""

    scale_factor: float = 1.0
    shift_factor: float = 0.0
    latent_channels: int = 4
    latent_dimensions: int = 2
    latent_rgb_factors: list[list[float]] | None = None
    latent_rgb_factors_bias: list[float] | None = None
    taesd_decoder_name: str | None = None

    def process_in(self, latent: torch.Tensor) -> torch.Tensor:
        """VAE latent → model space: `(latent - shift_factor) * scale_factor`."""
        if self.shift_factor:
            latent = latent - self.shift_factor
        return latent * self.scale_factor

    def process_out(self, latent: torch.Tensor) -> torch.Tensor:
        """Model space → VAE latent: `latent / scale_factor + shift_factor`."""
        latent = latent / self.scale_factor
        if self.shift_factor:
            latent = latent + self.shift_factor
        return latent


class SD15(LatentFormat):
    """Stable Diffusion 1.x / 2.x: 4 channels scaled by 0.18215."""

    def __init__(self, scale_factor: float = 0.18215):
        self.scale_factor = scale_factor
        self.latent_rgb_factors = [
            #   R        G        B
            [0.3512, 0.2297, 0.3227],
            [0.3250, 0.4974, 0.2350],
            [-0.2829, 0.1762, 0.2721],
            [-0.2120, -0.2616, -0.7177],
        ]
        self.taesd_decoder_name = "taesd_decoder"


class SDXL(LatentFormat):
    """Stable Diffusion XL: 4 channels scaled by 0.13025."""

    scale_factor = 0.13025

    def __init__(self):
        self.latent_rgb_factors = [
            #   R        G        B
            [0.3651, 0.4232, 0.4341],
            [-0.2533, -0.0042, 0.1068],
            [0.1076, 0.1111, -0.0362],
            [-0.3165, -0.2492, -0.2188],
        ]
        self.latent_rgb_factors_bias = [0.1084, -0.0175, -0.0011]
        self.taesd_decoder_name = "taesdxl_decoder"


class SD3(LatentFormat):
    """Stable Diffusion 3: 16 channels, shifted by 0.0609 and scaled by 1.5305 (no preview factors here)."""

    latent_channels = 16
    scale_factor = 1.5305
    shift_factor = 0.0609
    taesd_decoder_name = "taesd3_decoder"


class Flux(SD3):
    """FLUX.1: 16 channels, shifted by 0.1159 and scaled by 0.3611 (no preview factors here)."""

    scale_factor = 0.3611
    shift_factor = 0.1159
    taesd_decoder_name = "taef1_decoder"
