"""The tensor and dict types nodes pass around, under ComfyUI's `comfy_api.input` names."""

from __future__ import annotations

from typing import TypedDict

import torch

ImageInput = torch.Tensor
"""An image batch [B, H, W, C], float in 0..1."""

MaskInput = torch.Tensor
"""A mask batch [B, H, W], float in 0..1."""


class AudioInput(TypedDict):
    """AUDIO: `waveform` [B, C, T] float in -1..1 and its `sample_rate` in Hz."""

    waveform: torch.Tensor
    sample_rate: int


class LatentInput(TypedDict, total=False):
    """LATENT: `samples` [B, C, H, W] and optional `noise_mask`, `batch_index`."""

    samples: torch.Tensor
    noise_mask: MaskInput | None
    batch_index: list[int] | None
