"""TAESD, the Tiny AutoEncoder for Stable Diffusion (madebyollin/taesd, MIT): a small convolutional encoder and
decoder that approximate a VAE, used for sampler previews (`latent_preview`, `--preview-method taesd`).

The networks are `torch.nn.Sequential`s laid out as the published `taesd_encoder.pth` / `taesd_decoder.pth`
files (and ComfyUI's `models/vae_approx`) number their modules, so those files load as they are. Images are in
[-1, 1] at the interface, latents are the VAE's raw latents.
"""

from __future__ import annotations

import torch
from torch import nn

import comfy.ops
import comfy.utils

_WIDTH = 64


def conv(n_in: int, n_out: int, **kwargs) -> nn.Module:
    """A 3x3 convolution with padding 1 (options such as `stride`, `bias` passed on)."""
    return comfy.ops.disable_weight_init.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class Clamp(nn.Module):
    """A soft clamp of latents to (-3, 3): 3 tanh(x / 3)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    """Three 3x3 convolutions with ReLUs between, plus the input (through a 1x1 convolution when the width
    changes), then a ReLU."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.conv = nn.Sequential(conv(n_in, n_out), nn.ReLU(), conv(n_out, n_out), nn.ReLU(), conv(n_out, n_out))
        self.skip = (comfy.ops.disable_weight_init.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out
                     else nn.Identity())
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.conv(x) + self.skip(x))


def Encoder(latent_channels: int = 4) -> nn.Sequential:  # noqa: N802 - ComfyUI's name
    """Image [B, 3, H, W] in [0, 1] → latent [B, C, H/8, W/8]: three stride-2 stages of three blocks each."""
    layers: list[nn.Module] = [conv(3, _WIDTH), Block(_WIDTH, _WIDTH)]
    for _ in range(3):
        layers += [conv(_WIDTH, _WIDTH, stride=2, bias=False)] + [Block(_WIDTH, _WIDTH) for _ in range(3)]
    layers.append(conv(_WIDTH, latent_channels))
    return nn.Sequential(*layers)


def Decoder(latent_channels: int = 4) -> nn.Sequential:  # noqa: N802 - ComfyUI's name
    """Latent [B, C, h, w] → image [B, 3, 8h, 8w] in about [0, 1]: three blocks and a 2x upsampling, three times,
    then one block."""
    layers: list[nn.Module] = [Clamp(), conv(latent_channels, _WIDTH), nn.ReLU()]
    for _ in range(3):
        layers += [Block(_WIDTH, _WIDTH) for _ in range(3)]
        layers += [nn.Upsample(scale_factor=2), conv(_WIDTH, _WIDTH, bias=False)]
    layers += [Block(_WIDTH, _WIDTH), conv(_WIDTH, 3)]
    return nn.Sequential(*layers)


class TAESD(nn.Module):
    """The encoder and decoder, each loaded from its file when a path is given."""

    latent_magnitude = 3
    latent_shift = 0.5

    def __init__(self, encoder_path: str | None = None, decoder_path: str | None = None, latent_channels: int = 4):
        super().__init__()
        self.taesd_encoder = Encoder(latent_channels=latent_channels)
        self.taesd_decoder = Decoder(latent_channels=latent_channels)
        self.vae_scale = nn.Parameter(torch.tensor(1.0))
        self.vae_shift = nn.Parameter(torch.tensor(0.0))
        if encoder_path is not None:
            self.taesd_encoder.load_state_dict(comfy.utils.load_torch_file(encoder_path, safe_load=True))
        if decoder_path is not None:
            self.taesd_decoder.load_state_dict(comfy.utils.load_torch_file(decoder_path, safe_load=True))

    @staticmethod
    def scale_latents(x: torch.Tensor) -> torch.Tensor:
        """Raw latents → [0, 1]."""
        return x.div(2 * TAESD.latent_magnitude).add(TAESD.latent_shift).clamp(0, 1)

    @staticmethod
    def unscale_latents(x: torch.Tensor) -> torch.Tensor:
        """[0, 1] → raw latents."""
        return x.sub(TAESD.latent_shift).mul(2 * TAESD.latent_magnitude)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Latents → images in [-1, 1]."""
        return self.taesd_decoder((x - self.vae_shift) * self.vae_scale).sub(0.5).mul(2)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] → latents."""
        return self.taesd_encoder(x * 0.5 + 0.5) / self.vae_scale + self.vae_shift
