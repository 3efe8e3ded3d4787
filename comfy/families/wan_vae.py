"""The Wan video VAEs: Wan 2.1's (16 latent channels, 8x spatial, 4x temporal) and Wan 2.2's (48 channels,
16x spatial: a 2x2 pixel patchify around an 8x network, with residual down/up blocks), in the original Wan layout.

A file in that layout has `decoder.middle.0.residual.0.gamma` (as ComfyUI tells it, and diffusers); Wan 2.2's
decoder nests its up blocks (`decoder.upsamples.0.upsamples.0.residual.2.weight`), Wan 2.1's are one flat list.
Every size is read from the shapes (ComfyUI builds 96 / 160 wide networks; reduced files load here too).

Loading builds diffusers' `AutoencoderKLWan`; the keys go through diffusers' `convert_wan_vae_to_diffusers`, after
`_nested_blocks_to_diffusers` has renamed Wan 2.2's nested down/up blocks (that converter knows only Wan 2.1's flat
lists), and every key is checked by `weights.load_checked`. The VAE returns unnormalised latents (the posterior
mean): the per-channel mean and std belong to the diffusion model's latent format, as in ComfyUI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from comfy.families import key_tables
from comfy.families.base import WeightLoadError
from comfy.families.weights import load_checked

MARKER = "decoder.middle.0.residual.0.gamma"
WAN22_MARKER = "decoder.upsamples.0.upsamples.0.residual.2.weight"
_RESIDUAL_PARTS = {"residual.0.gamma": "norm1.gamma", "residual.2.weight": "conv1.weight",
                   "residual.2.bias": "conv1.bias", "residual.3.gamma": "norm2.gamma",
                   "residual.6.weight": "conv2.weight", "residual.6.bias": "conv2.bias",
                   "shortcut.weight": "conv_shortcut.weight", "shortcut.bias": "conv_shortcut.bias"}


@dataclass(frozen=True)
class WanVAEConfig:
    """What a Wan VAE file's shapes say.

    version: "wan2.1" or "wan2.2"; base_dim / decoder_base_dim: the encoder's and decoder's first widths;
    z_dim: latent channels; dim_mult: width multipliers per level; num_res_blocks: residual blocks per encoder
    level (the decoder has one more); temporal_downsample: whether each level but the last halves time;
    in_channels: 3, or 12 where pixels are patchified 2x2 (Wan 2.2).
    """

    version: str
    base_dim: int
    decoder_base_dim: int
    z_dim: int
    dim_mult: tuple[int, ...]
    num_res_blocks: int
    temporal_downsample: tuple[bool, ...]
    in_channels: int

    @property
    def patch_size(self) -> int:
        return math.isqrt(self.in_channels // 3)

    @property
    def spatial_ratio(self) -> int:
        return 2 ** (len(self.dim_mult) - 1) * self.patch_size

    @property
    def temporal_ratio(self) -> int:
        return 2 ** sum(self.temporal_downsample)


def is_wan_vae(state_dict: Mapping[str, Any]) -> bool:
    """Whether `state_dict` is a Wan VAE in the original layout (bare keys)."""
    return MARKER in state_dict


def detect(state_dict: Mapping[str, Any], source_name: str = "VAE file") -> WanVAEConfig:
    """The Wan VAE's sizes, read from the shapes of `state_dict` (real tensors or `meta` ones)."""
    if not is_wan_vae(state_dict):
        raise WeightLoadError(f"{source_name}: not a Wan VAE (no {MARKER!r})")
    residual = WAN22_MARKER in state_dict
    try:
        conv_in = state_dict["encoder.conv1.weight"]
        base_dim = int(conv_in.shape[0])
        levels = _encoder_levels(state_dict, residual)
        widths = [int(state_dict[level[0]].shape[0]) for level in levels]
        return WanVAEConfig(
            version="wan2.2" if residual else "wan2.1",
            base_dim=base_dim,
            decoder_base_dim=int(state_dict["decoder.head.0.gamma"].shape[0]),
            z_dim=int(state_dict["conv2.weight"].shape[0]),
            dim_mult=tuple(width // base_dim for width in widths),
            num_res_blocks=len(levels[0]),
            temporal_downsample=tuple(_downsample_key(state_dict, residual, index, levels) for index in
                                      range(len(levels) - 1)),
            in_channels=int(conv_in.shape[1]),
        )
    except KeyError as error:
        raise WeightLoadError(f"{source_name}: a Wan VAE without {error.args[0]!r}; the file is incomplete") from None


def _encoder_levels(state_dict: Mapping[str, Any], residual: bool) -> list[list[str]]:
    """Per encoder level, the `residual.2.weight` key of each residual block (whose rows are the level's width)."""
    if residual:
        levels = []
        while f"encoder.downsamples.{len(levels)}.downsamples.0.residual.2.weight" in state_dict:
            level = len(levels)
            blocks = []
            while f"encoder.downsamples.{level}.downsamples.{len(blocks)}.residual.2.weight" in state_dict:
                blocks.append(f"encoder.downsamples.{level}.downsamples.{len(blocks)}.residual.2.weight")
            levels.append(blocks)
        return levels
    # Wan 2.1: one flat list, each level's residual blocks followed by a resample (none after the last level)
    levels, current, index = [], [], 0
    while any(key.startswith(f"encoder.downsamples.{index}.") for key in state_dict):
        if f"encoder.downsamples.{index}.residual.2.weight" in state_dict:
            current.append(f"encoder.downsamples.{index}.residual.2.weight")
        else:
            levels.append(current)
            current = []
        index += 1
    return levels + [current]


def _downsample_key(state_dict: Mapping[str, Any], residual: bool, level: int, levels: list[list[str]]) -> bool:
    """Whether encoder level `level`'s resample also halves time (has a `time_conv`)."""
    if residual:
        return f"encoder.downsamples.{level}.downsamples.{len(levels[level])}.time_conv.weight" in state_dict
    index = sum(len(blocks) + 1 for blocks in levels[:level]) + len(levels[level])
    return f"encoder.downsamples.{index}.time_conv.weight" in state_dict


def diffusers_config(config: WanVAEConfig) -> dict[str, Any]:
    """`AutoencoderKLWan` keyword arguments. latents_mean / std are left neutral: Kiln never lets diffusers
    normalise (the latent format does)."""
    return {
        "base_dim": config.base_dim, "decoder_base_dim": config.decoder_base_dim, "z_dim": config.z_dim,
        "dim_mult": list(config.dim_mult), "num_res_blocks": config.num_res_blocks, "attn_scales": [],
        "temperal_downsample": list(config.temporal_downsample), "dropout": 0.0,
        "latents_mean": [0.0] * config.z_dim, "latents_std": [1.0] * config.z_dim,
        "is_residual": config.version == "wan2.2", "in_channels": config.in_channels,
        "out_channels": config.in_channels, "patch_size": config.patch_size if config.patch_size > 1 else None,
        "scale_factor_temporal": config.temporal_ratio, "scale_factor_spatial": config.spatial_ratio,
    }


def original_layout(config: WanVAEConfig) -> dict[str, tuple[int, ...]]:
    """{key: shape} of a Wan VAE file with these sizes (for writing test files and detection tests)."""
    layout: dict[str, tuple[int, ...]] = {}
    residual = config.version == "wan2.2"

    def block(prefix: str, in_dim: int, out_dim: int) -> None:
        layout.update({f"{prefix}.residual.0.gamma": (in_dim, 1, 1, 1),
                       f"{prefix}.residual.2.weight": (out_dim, in_dim, 3, 3, 3), f"{prefix}.residual.2.bias": (out_dim,),
                       f"{prefix}.residual.3.gamma": (out_dim, 1, 1, 1),
                       f"{prefix}.residual.6.weight": (out_dim, out_dim, 3, 3, 3), f"{prefix}.residual.6.bias": (out_dim,)})
        if in_dim != out_dim:
            layout.update({f"{prefix}.shortcut.weight": (out_dim, in_dim, 1, 1, 1), f"{prefix}.shortcut.bias": (out_dim,)})

    def resample(prefix: str, dim: int, out_dim: int, temporal: bool, up: bool) -> None:
        layout.update({f"{prefix}.resample.1.weight": (out_dim, dim, 3, 3), f"{prefix}.resample.1.bias": (out_dim,)})
        if temporal:
            rows = dim * 2 if up else dim
            layout.update({f"{prefix}.time_conv.weight": (rows, dim, 3, 1, 1), f"{prefix}.time_conv.bias": (rows,)})

    def middle(prefix: str, dim: int) -> None:
        block(f"{prefix}.middle.0", dim, dim)
        layout.update({f"{prefix}.middle.1.norm.gamma": (dim, 1, 1), f"{prefix}.middle.1.to_qkv.weight": (dim * 3, dim, 1, 1),
                       f"{prefix}.middle.1.to_qkv.bias": (dim * 3,), f"{prefix}.middle.1.proj.weight": (dim, dim, 1, 1),
                       f"{prefix}.middle.1.proj.bias": (dim,)})
        block(f"{prefix}.middle.2", dim, dim)

    levels = len(config.dim_mult)
    dims = [config.base_dim * mult for mult in (1, *config.dim_mult)]
    layout.update({"encoder.conv1.weight": (dims[0], config.in_channels, 3, 3, 3), "encoder.conv1.bias": (dims[0],)})
    index = 0
    for level in range(levels):
        in_dim, out_dim = dims[level], dims[level + 1]
        for block_index in range(config.num_res_blocks):
            name = f"encoder.downsamples.{level}.downsamples.{block_index}" if residual else f"encoder.downsamples.{index}"
            block(name, in_dim if block_index == 0 else out_dim, out_dim)
            index += 1
        if level < levels - 1:
            name = (f"encoder.downsamples.{level}.downsamples.{config.num_res_blocks}" if residual
                    else f"encoder.downsamples.{index}")
            resample(name, out_dim, out_dim, config.temporal_downsample[level], up=False)
            index += 1
    middle("encoder", dims[-1])
    layout.update({"encoder.head.0.gamma": (dims[-1], 1, 1, 1),
                   "encoder.head.2.weight": (config.z_dim * 2, dims[-1], 3, 3, 3), "encoder.head.2.bias": (config.z_dim * 2,),
                   "conv1.weight": (config.z_dim * 2, config.z_dim * 2, 1, 1, 1), "conv1.bias": (config.z_dim * 2,),
                   "conv2.weight": (config.z_dim, config.z_dim, 1, 1, 1), "conv2.bias": (config.z_dim,)})

    decoder_dims = [config.decoder_base_dim * mult for mult in (config.dim_mult[-1], *config.dim_mult[::-1])]
    temporal_upsample = config.temporal_downsample[::-1]
    layout.update({"decoder.conv1.weight": (decoder_dims[0], config.z_dim, 3, 3, 3), "decoder.conv1.bias": (decoder_dims[0],)})
    middle("decoder", decoder_dims[0])
    index = 0
    for level in range(levels):
        in_dim, out_dim = decoder_dims[level], decoder_dims[level + 1]
        if not residual and level in (1, 2, 3):
            in_dim //= 2  # Wan 2.1's upsampling resample halves the width
        for block_index in range(config.num_res_blocks + 1):
            name = f"decoder.upsamples.{level}.upsamples.{block_index}" if residual else f"decoder.upsamples.{index}"
            block(name, in_dim if block_index == 0 else out_dim, out_dim)
            index += 1
        if level < levels - 1:
            name = (f"decoder.upsamples.{level}.upsamples.{config.num_res_blocks + 1}" if residual
                    else f"decoder.upsamples.{index}")
            resample(name, out_dim, out_dim if residual else out_dim // 2, temporal_upsample[level], up=True)
            index += 1
    layout.update({"decoder.head.0.gamma": (decoder_dims[-1], 1, 1, 1),
                   "decoder.head.2.weight": (config.in_channels, decoder_dims[-1], 3, 3, 3),
                   "decoder.head.2.bias": (config.in_channels,)})
    return layout


_NESTED = re.compile(r"^(encoder\.downsamples|decoder\.upsamples)\.(\d+)\.(?:down|up)samples\.(\d+)\.(.+)$")


def _nested_blocks_to_diffusers(state_dict: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(renamed, rest): Wan 2.2's nested `<part>.<level>.<...>samples.<block>.*` keys in diffusers' names, and
    the other keys untouched (for diffusers' converter)."""
    renamed, rest = {}, {}
    for key, value in state_dict.items():
        match = _NESTED.match(key)
        if match is None:
            rest[key] = value
            continue
        part, level, block, tail = match.groups()
        side, blocks, sampler = (("encoder", "down_blocks", "downsampler") if part.startswith("encoder")
                                 else ("decoder", "up_blocks", "upsampler"))
        head = next((name for name in _RESIDUAL_PARTS if tail == name), None)
        if head is not None:
            renamed[f"{side}.{blocks}.{level}.resnets.{block}.{_RESIDUAL_PARTS[head]}"] = value
        else:  # the level's resample: `resample.1.*` / `time_conv.*`
            renamed[f"{side}.{blocks}.{level}.{sampler}.{tail}"] = value
    return renamed, rest


def convert_to_diffusers(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Original Wan VAE keys -> `AutoencoderKLWan` parameter names (tensors passed through, not copied)."""
    from diffusers.loaders.single_file_utils import convert_wan_vae_to_diffusers

    renamed, rest = _nested_blocks_to_diffusers(state_dict)
    converted = convert_wan_vae_to_diffusers(rest)
    converted.update(renamed)
    return converted


def load(state_dict: Mapping[str, torch.Tensor], source_name: str, dtype: torch.dtype | None = torch.float32
         ) -> torch.nn.Module:
    """A diffusers `AutoencoderKLWan` holding the Wan VAE weights of `state_dict` (bare original keys)."""
    from diffusers import AutoencoderKLWan

    config = detect(state_dict, source_name)
    return load_checked(AutoencoderKLWan, diffusers_config(config), state_dict, convert_to_diffusers(state_dict),
                        f"Wan VAE ({config.version})", source_name, dtype)


def key_table(config: WanVAEConfig) -> key_tables.KeyTable:
    """Original key -> `AutoencoderKLWan` parameter, traced off the conversion (for VAESave and LoRA)."""
    return key_tables.trace_converter(convert_to_diffusers, original_layout(config))
