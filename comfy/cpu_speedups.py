"""Exact CPU speed-ups for a diffusers UNet: the same numbers as the plain modules, computed with less work.

A UNet pass on a small latent is bound by reading weights, not by arithmetic, so each trick here reads fewer
of them or picks the faster of torch's kernels for the feature-map size at hand:
- oneDNN convolutions only for large latents (`onednn_convolutions`, `use_onednn_convolutions`);
- 3x3 convolutions on tiny maps as unfold + matrix multiply, and on 1x1 maps with the centre taps alone
  (`SmallMapConv2d`);
- the cross-attention key and value projections of the text context, which is the same at every sampling
  step, computed once per context (`ContextProjection`).
`speed_up_unet` switches a network's modules to these classes in place (same parameters, same state dict).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

# On the CPU, torch's oneDNN convolutions are slower than its plain ones on small feature maps (1280 channels,
# 3x3, 1 thread: 69 vs 8 ms at 1x1, 123 vs 66 ms at 8x8) and faster on large ones (320 channels at 64x64: 225
# vs 304 ms). A UNet's deepest maps are 1/8 of the latent's side, so oneDNN only pays from 64x64 latents on.
ONEDNN_MIN_LATENT_PIXELS = 48 * 48


@contextlib.contextmanager
def onednn_convolutions(enabled: bool) -> Iterator[None]:
    """Switch torch's oneDNN kernels for the block (only the `enabled` flag: `mkldnn.flags()` also sets TF32
    options and warns on every call)."""
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = previous


def use_onednn_convolutions(latent: torch.Tensor) -> bool:
    """Whether the network's convolutions on `latent` should run on oneDNN: always off the CPU and in float16 /
    bfloat16 (ComfyUI leaves oneDNN on, and its reduced-precision kernels round differently from torch's plain
    ones: one ulp in the first ResBlock's fp16 output), else only for large CPU latents."""
    if latent.device.type != "cpu" or latent.dtype != torch.float32:
        return torch.backends.mkldnn.is_available()
    return latent.shape[-1] * latent.shape[-2] >= ONEDNN_MIN_LATENT_PIXELS


# torch's plain CPU convolution is slow on the tiny feature maps of a UNet's deepest levels (1280 channels, 3x3,
# batch 2, 1 thread: 42 ms at 2x2), where the same product as unfold + one matrix multiply takes 11 ms.
SMALL_FEATURE_MAP_PIXELS = 4 * 4


class SmallMapConv2d(torch.nn.Conv2d):
    """A 3x3 convolution (stride 1, padding 1) computed as unfold + matrix multiply on small CPU feature maps.

    On a 1x1 map every tap but the centre one meets zero padding, so the convolution is a matrix multiply with
    the centre taps alone: reading a ninth of the weights, which is what bounds the UNet's deepest level on a
    CPU. The centre taps are copied out once (contiguous) and copied again only when the weight changes.
    """

    _centre_taps: tuple[tuple[int, int], torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.shape[-1] * x.shape[-2] > SMALL_FEATURE_MAP_PIXELS:
            return super().forward(x)
        batch, _, height, width = x.shape
        if height == 1 and width == 1:
            output = torch.nn.functional.linear(x.reshape(batch, -1), self.centre_taps(), self.bias)
            return output.reshape(batch, self.out_channels, 1, 1)
        columns = torch.nn.functional.unfold(x, 3, padding=1)
        output = self.weight.reshape(self.out_channels, -1) @ columns
        if self.bias is not None:
            output = output + self.bias.reshape(1, -1, 1)
        return output.reshape(batch, self.out_channels, height, width)

    def centre_taps(self) -> torch.Tensor:
        """`weight[:, :, 1, 1]` as a contiguous `[out, in]` matrix, cached while the weight is unchanged."""
        key = (self.weight.data_ptr(), self.weight._version)
        if self._centre_taps is None or self._centre_taps[0] != key:
            with torch.inference_mode(False), torch.no_grad():
                self._centre_taps = (key, self.weight[:, :, 1, 1].contiguous())
        return self._centre_taps[1]


class ContextProjection(torch.nn.Linear):
    """A cross-attention key or value projection that reuses its last output while its input is unchanged.

    The text context is the same at every sampling step, so from the second step on the projection costs one
    comparison of the context instead of a matrix multiply (for SD1.5 at 64x64, about a tenth of a UNet pass).
    Only inside `torch.inference_mode()`, only for the module's own parameters (not a streamed per-call copy),
    and only while they are unchanged (a LoRA patch bumps their version).
    """

    _last: tuple[tuple[Any, ...], torch.Tensor, torch.Tensor] | None = None

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        if not torch.is_inference_mode_enabled() or not isinstance(self.weight, torch.nn.Parameter):
            return super().forward(context)  # (a plain tensor is a per-call copy: comfy/weight_streaming.py)
        weights = (self.weight.data_ptr(), self.weight._version,
                   None if self.bias is None else (self.bias.data_ptr(), self.bias._version))
        last = self._last
        if (last is not None and last[0] == weights and last[1].shape == context.shape
                and last[1].dtype == context.dtype and last[1].device == context.device
                and torch.equal(last[1], context)):
            return last[2]
        output = super().forward(context)
        self._last = (weights, context.clone(), output)
        return output


def speed_up_unet(network: torch.nn.Module) -> None:
    """Switch the network's plain 3x3 convolutions (stride 1, padding 1) to `SmallMapConv2d` and its
    cross-attention key and value projections to `ContextProjection`, in place (same parameters)."""
    for module in network.modules():
        if (type(module) is torch.nn.Conv2d and module.kernel_size == (3, 3) and module.stride == (1, 1)
                and module.padding == (1, 1) and module.dilation == (1, 1) and module.groups == 1
                and module.padding_mode == "zeros"):
            module.__class__ = SmallMapConv2d
        elif getattr(module, "is_cross_attention", False):
            for projection in (module.to_k, module.to_v):
                if type(projection) is torch.nn.Linear:
                    projection.__class__ = ContextProjection


SPEED_UP_CLASSES = {SmallMapConv2d: torch.nn.Conv2d, ContextProjection: torch.nn.Linear}


@contextlib.contextmanager
def plain_modules(network: torch.nn.Module) -> Iterator[None]:
    """Run the block with torch's plain classes in place of the speed-ups (a baseline for benchmarks and
    tests); the speed-ups come back afterwards."""
    swapped = [(module, type(module)) for module in network.modules() if type(module) in SPEED_UP_CLASSES]
    for module, speed_up in swapped:
        module.__class__ = SPEED_UP_CLASSES[speed_up]
    try:
        yield
    finally:
        for module, speed_up in swapped:
            module.__class__ = speed_up
