"""The LDM autoencoder (4-channel SD / SDXL, 16-channel SD3 / FLUX.1), shared by every family that has one.

Bare keys (`encoder.*`, `decoder.*`, optional `quant_conv` / `post_quant_conv`): the family descriptions say where
a checkpoint keeps them. Loading converts with diffusers' `convert_ldm_vae_checkpoint`; the way back
(`vae_diffusers_to_ldm`, CheckpointSave) uses diffusers' `DIFFUSERS_TO_LDM_MAPPING["vae"]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from comfy.families.base import WeightLoadError
from comfy.families.weights import load_checked

VAE_NORM_NUM_GROUPS = 32  # every SD/SDXL/SD3/Flux VAE; not visible in the weights
VAE_PART_PREFIXES = ("encoder.", "decoder.", "quant_conv.", "post_quant_conv.")


def is_vae(state_dict: Mapping[str, Any], prefix: str = "") -> bool:
    """Whether an LDM VAE's encoder or decoder is under `prefix`."""
    return prefix + "decoder.conv_in.weight" in state_dict or prefix + "encoder.conv_in.weight" in state_dict


def vae_part(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The VAE's own keys of a bare state dict (encoder, decoder and the quant convs)."""
    return {key: value for key, value in state_dict.items() if key.startswith(VAE_PART_PREFIXES)}


def _count(keys: Any, prefix: str) -> int:
    found = {int(key[len(prefix):].split(".")[0]) for key in keys if key.startswith(prefix)}
    return max(found) + 1 if found else 0


def vae_diffusers_config(vae: Mapping[str, Any], scaling_factor: float = 0.18215) -> dict[str, Any]:
    """An `AutoencoderKL` config dict derived from bare LDM VAE weight shapes.

    block_out_channels from `encoder.down.N.block.0.conv1`, layers_per_block from the number of encoder
    res blocks per level, latent_channels from `decoder.conv_in`. `scaling_factor` is the family's latent
    scale (0.18215 SD1/SD2, 0.13025 SDXL).
    """
    if "encoder.conv_in.weight" not in vae or "decoder.conv_in.weight" not in vae:
        first = ", ".join(repr(key) for key in list(vae)[:8])
        raise ValueError(f"Not an LDM VAE: 'encoder.conv_in.weight' or 'decoder.conv_in.weight' missing. First keys: {first}")
    levels = _count(vae, "encoder.down.")
    block_out_channels = [int(vae[f"encoder.down.{level}.block.0.conv1.weight"].shape[0]) for level in range(levels)]
    return {
        "in_channels": int(vae["encoder.conv_in.weight"].shape[1]),
        "out_channels": int(vae["decoder.conv_out.weight"].shape[0]),
        "down_block_types": ["DownEncoderBlock2D"] * levels,
        "up_block_types": ["UpDecoderBlock2D"] * levels,
        "block_out_channels": block_out_channels,
        "layers_per_block": _count(vae, "encoder.down.0.block."),
        "latent_channels": int(vae["decoder.conv_in.weight"].shape[1]),
        "norm_num_groups": VAE_NORM_NUM_GROUPS,
        "scaling_factor": scaling_factor,
        "use_quant_conv": "quant_conv.weight" in vae,
        "use_post_quant_conv": "post_quant_conv.weight" in vae,
        "mid_block_add_attention": "encoder.mid.attn_1.q.weight" in vae,
    }


def load_vae(vae: Mapping[str, torch.Tensor], source_name: str, scaling_factor: float = 0.18215,
             dtype: torch.dtype | None = torch.float32) -> Any:
    """The diffusers `AutoencoderKL` for bare LDM VAE weights (every key is checked: pass the VAE's own keys).
    Raises `WeightLoadError` naming `source_name` and the first missing / unexpected / wrong-shape keys."""
    from diffusers import AutoencoderKL
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    try:
        config = vae_diffusers_config(vae, scaling_factor)
    except (ValueError, KeyError) as error:
        raise WeightLoadError(f"{source_name}: {error}")
    source = dict(vae)
    try:
        converted = convert_ldm_vae_checkpoint(source, config)
    except KeyError as error:
        raise WeightLoadError(f"{source_name}: the VAE weights lack the key {error}")
    return load_checked(AutoencoderKL, config, source, converted, "VAE", source_name, dtype)


_VAE_ATTENTION_RENAMES = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def vae_diffusers_to_ldm(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An `AutoencoderKL` state dict in LDM VAE names (bare `encoder.*` / `decoder.*`, plus the
    `quant_conv` / `post_quant_conv` pair).

    decoder.up_blocks.i -> decoder.up.{n-1-i}; the mid attention's linear to_q/k/v/to_out.0 become the
    1x1 convolutions q/k/v/proj_out.
    """
    from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

    top_level = DIFFUSERS_TO_LDM_MAPPING["vae"]
    num_up = 1 + max(int(key.split(".")[2]) for key in state_dict if key.startswith("decoder.up_blocks."))
    ldm: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key in top_level:
            ldm[top_level[key]] = value
            continue
        side, rest = key.split(".", 1)
        match = re.match(r"(down|up)_blocks\.(\d+)\.(resnets|downsamplers|upsamplers)\.(\d+)\.(.*)", rest)
        if match:
            direction, block, kind, index, tail = match.groups()
            level = int(block) if direction == "down" else num_up - 1 - int(block)
            if kind == "resnets":
                new = f"{direction}.{level}.block.{index}.{tail.replace('conv_shortcut', 'nin_shortcut')}"
            else:
                new = f"{direction}.{level}.{'downsample' if direction == 'down' else 'upsample'}.{tail}"
        elif rest.startswith("mid_block.resnets."):
            index, tail = rest[len("mid_block.resnets."):].split(".", 1)
            new = f"mid.block_{int(index) + 1}.{tail.replace('conv_shortcut', 'nin_shortcut')}"
        elif rest.startswith("mid_block.attentions.0."):
            tail = rest[len("mid_block.attentions.0."):]
            module, _, parameter = tail.rpartition(".")
            new = f"mid.attn_1.{_VAE_ATTENTION_RENAMES[module]}.{parameter}"
            if value.ndim == 2:
                value = value.reshape(*value.shape, 1, 1)
        else:
            raise KeyError(f"no LDM name for VAE key {key!r}")
        ldm[f"{side}.{new}"] = value
    return ldm
