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
    """Stable Diffusion 3: 16 channels, shifted by 0.0609 and scaled by 1.5305."""

    latent_channels = 16
    scale_factor = 1.5305
    shift_factor = 0.0609
    latent_rgb_factors = [
        #   R        G        B
        [-0.0922, -0.0175, 0.0749],
        [0.0311, 0.0633, 0.0954],
        [0.1994, 0.0927, 0.0458],
        [0.0856, 0.0339, 0.0902],
        [0.0587, 0.0272, -0.0496],
        [-0.0006, 0.1104, 0.0309],
        [0.0978, 0.0306, 0.0427],
        [-0.0042, 0.1038, 0.1358],
        [-0.0194, 0.0020, 0.0669],
        [-0.0488, 0.0130, -0.0268],
        [0.0922, 0.0988, 0.0951],
        [-0.0278, 0.0524, -0.0542],
        [0.0332, 0.0456, 0.0895],
        [-0.0069, -0.0030, -0.0810],
        [-0.0596, -0.0465, -0.0293],
        [-0.1448, -0.1463, -0.1189],
    ]
    latent_rgb_factors_bias = [0.2394, 0.2135, 0.1925]
    taesd_decoder_name = "taesd3_decoder"


class Flux(SD3):
    """FLUX.1: 16 channels, shifted by 0.1159 and scaled by 0.3611 (SD3's layout with its own VAE's numbers)."""

    scale_factor = 0.3611
    shift_factor = 0.1159
    latent_rgb_factors = [
        #   R        G        B
        [-0.0346, 0.0244, 0.0681],
        [0.0034, 0.0210, 0.0687],
        [0.0275, -0.0668, -0.0433],
        [-0.0174, 0.0160, 0.0617],
        [0.0859, 0.0721, 0.0329],
        [0.0004, 0.0383, 0.0115],
        [0.0405, 0.0861, 0.0915],
        [-0.0236, -0.0185, -0.0259],
        [-0.0245, 0.0250, 0.1180],
        [0.1008, 0.0755, -0.0421],
        [-0.0515, 0.0201, 0.0011],
        [0.0428, -0.0012, -0.0036],
        [0.0817, 0.0765, 0.0749],
        [-0.1264, -0.0522, -0.1103],
        [-0.0280, -0.0881, -0.0499],
        [-0.1262, -0.0982, -0.0778],
    ]
    latent_rgb_factors_bias = [-0.0329, -0.0718, -0.0851]
    taesd_decoder_name = "taef1_decoder"


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = 'Kiln does not support this model family'

ACEAudio = unsupported_class(__name__, 'ACEAudio', None, _REASON)
ChromaRadiance = unsupported_class(__name__, 'ChromaRadiance', '', _REASON)
Cosmos1CV8x8x8 = unsupported_class(__name__, 'Cosmos1CV8x8x8', None, _REASON)
Hunyuan3Dv2 = unsupported_class(__name__, 'Hunyuan3Dv2', None, _REASON)
Hunyuan3Dv2_1 = unsupported_class(__name__, 'Hunyuan3Dv2_1', None, _REASON)
Hunyuan3Dv2mini = unsupported_class(__name__, 'Hunyuan3Dv2mini', None, _REASON)
HunyuanImage21 = unsupported_class(__name__, 'HunyuanImage21', None, _REASON)
HunyuanImage21Refiner = unsupported_class(__name__, 'HunyuanImage21Refiner', None, _REASON)
HunyuanVideo = unsupported_class(__name__, 'HunyuanVideo', None, _REASON)
LTXV = unsupported_class(__name__, 'LTXV', '', _REASON)
Mochi = unsupported_class(__name__, 'Mochi', '', _REASON)
SC_B = unsupported_class(__name__, 'SC_B', '', _REASON)
SC_Prior = unsupported_class(__name__, 'SC_Prior', '', _REASON)
SDXL_Playground_2_5 = unsupported_class(__name__, 'SDXL_Playground_2_5', '', _REASON)
SD_X4 = unsupported_class(__name__, 'SD_X4', '', _REASON)
StableAudio1 = unsupported_class(__name__, 'StableAudio1', None, _REASON)
Wan21 = unsupported_class(__name__, 'Wan21', '', _REASON)
Wan22 = unsupported_class(__name__, 'Wan22', '', _REASON)
