"""T2I-Adapters (TencentARC): full, light and SDXL, in TencentARC's layout (`conv_in`, `body.N.block1`, ...) or
diffusers' (`adapter.body.L.resnets.M.*`, renamed to TencentARC's by `from_diffusers_names`).

The network is diffusers' `T2IAdapter` (`full_adapter`, `light_adapter`, `full_adapter_xl`); `key_table` is the
one renaming between the two layouts, used both ways. ComfyUI fixes what the weights do not show: four levels of
[c, 2c, 4c, 4c] channels with two res blocks each (full), [320, 640, 1280, 1280] with four (light); a 256- or
768-channel first convolution (1 or 3 input channels after a 16x pixel unshuffle) marks an SDXL adapter.

`T2IAdapterNetwork` returns ComfyUI's residual dict: the features of each level placed at the input blocks that
end a UNet level ("input", popped from the end), and for SDXL the last level's features as "middle".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from comfy.families.base import WeightLoadError
from comfy.families.shapes import shape
from comfy.families.weights import load_checked

_LEVELS = 4
_FULL_RES_BLOCKS = 2
_LIGHT_RES_BLOCKS = 4
# diffusers' light adapter adds a last, downsampling level of the last width: these three give ComfyUI's
# four levels of [320, 640, 1280, 1280].
_LIGHT_CHANNELS = (320, 640, 1280)
_XL_INPUT_WIDTHS = (256, 768)  # 1 or 3 channels x 16 x 16 after the pixel unshuffle


def is_xl(state_dict: Mapping[str, Any]) -> bool:
    """Whether a full adapter (TencentARC names) is the SDXL one, as ComfyUI decides: by its input width."""
    return shape(state_dict, "conv_in.weight")[1] in _XL_INPUT_WIDTHS


def from_diffusers_names(state_dict: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """A diffusers-layout adapter (`adapter.body.L.resnets.M.*`) under TencentARC's names."""
    light = any(key.endswith(".out_conv.weight") for key in state_dict)
    table = key_table([key for key in state_dict], light=light, prefix=prefix)
    inverse = {diffusers: original for original, diffusers in table.items()}
    return {inverse.get(key, key): value for key, value in state_dict.items()}


def key_table(diffusers_keys: list[str], light: bool, prefix: str = "adapter.") -> dict[str, str]:
    """TencentARC key -> diffusers key for the adapter parameters `diffusers_keys` (with `prefix`)."""
    table: dict[str, str] = {}
    for key in diffusers_keys:
        bare = key[len(prefix):] if key.startswith(prefix) else key
        resnet = re.match(r"body\.(\d+)\.resnets\.(\d+)\.(.+)$", bare)
        level_part = re.match(r"body\.(\d+)\.(in_conv|out_conv)\.(.+)$", bare)
        if resnet:
            level, block, rest = int(resnet.group(1)), int(resnet.group(2)), resnet.group(3)
            original = (f"body.{level}.body.{block}.{rest}" if light
                        else f"body.{level * _FULL_RES_BLOCKS + block}.{rest}")
        elif level_part:
            level, part, rest = int(level_part.group(1)), level_part.group(2), level_part.group(3)
            original = f"body.{level}.{part}.{rest}" if light else f"body.{level * _FULL_RES_BLOCKS}.{part}.{rest}"
        else:
            original = bare
        table[original] = key
    return table


def diffusers_config(kind: str, state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The `T2IAdapter` config of a TencentARC-layout adapter of `kind` (t2i_full, t2i_xl, t2i_light)."""
    if kind == "t2i_light":
        input_width = shape(state_dict, "body.0.in_conv.weight")[1]
        return {"in_channels": input_width // 64, "channels": list(_LIGHT_CHANNELS),
                "num_res_blocks": _LIGHT_RES_BLOCKS, "downscale_factor": 8, "adapter_type": "light_adapter"}
    input_width, first = shape(state_dict, "conv_in.weight")[1], shape(state_dict, "conv_in.weight")[0]
    if shape(state_dict, "body.0.block2.weight")[2] != 1:
        raise WeightLoadError("T2I-Adapters with wider second convolutions (ksize > 1) are not supported")
    if any(key.endswith("down_opt.op.weight") for key in state_dict):
        raise WeightLoadError("T2I-Adapters that downsample with a convolution are not supported")
    unshuffle = 16 if kind == "t2i_xl" else 8
    return {"in_channels": input_width // (unshuffle * unshuffle), "channels": [first, 2 * first, 4 * first, 4 * first],
            "num_res_blocks": _FULL_RES_BLOCKS, "downscale_factor": unshuffle,
            "adapter_type": "full_adapter_xl" if kind == "t2i_xl" else "full_adapter"}


def load(kind: str, state_dict: Mapping[str, torch.Tensor], source_name: str,
         dtype: torch.dtype | None = torch.float32) -> T2IAdapterNetwork:
    """The adapter network of a TencentARC-layout state dict of `kind`."""
    from diffusers import T2IAdapter

    config = diffusers_config(kind, state_dict)
    with torch.device("meta"):
        keys = list(T2IAdapter(**config).state_dict())
    table = key_table(keys, light=kind == "t2i_light")
    converted = {diffusers: state_dict.get(original) for original, diffusers in table.items()}
    adapter = load_checked(T2IAdapter, config, state_dict, converted, "T2I-Adapter", source_name, dtype)
    return T2IAdapterNetwork(adapter, xl=kind == "t2i_xl")


def original_state_dict(adapter: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A diffusers `T2IAdapter`'s tensors under TencentARC's names (test files)."""
    light = adapter.config.adapter_type == "light_adapter"
    state = adapter.state_dict()
    return {original: state[key] for original, key in key_table(list(state), light=light).items()}


class T2IAdapterNetwork(torch.nn.Module):
    """ComfyUI's adapter interface over diffusers' `T2IAdapter`: `forward(hint)` -> the residual dict;
    `unshuffle_amount` (8, SDXL 16) and `input_channels` (1 or 3) say what hint it takes."""

    def __init__(self, adapter: torch.nn.Module, xl: bool):
        super().__init__()
        self.adapter = adapter
        self.xl = xl
        self.unshuffle_amount = int(adapter.config.downscale_factor)
        self.input_channels = int(adapter.config.in_channels)

    def forward(self, hint: torch.Tensor) -> dict[str, list]:
        features = self.adapter(hint)
        placed: list[torch.Tensor | None] = []
        for level, feature in enumerate(features):
            if self.xl:
                placed += [None] * (3 if level == 0 else 2 if level == 2 else 1)
            else:
                placed += [None, None]
            placed.append(feature)
        placed.reverse()
        if self.xl:
            return {"input": placed[1:], "middle": placed[:1]}
        return {"input": placed}
