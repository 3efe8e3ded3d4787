"""The Stable Diffusion UNet (SD1.x, SD2.x, SDXL), shared by those families' descriptions.

- `detect_unet_config`: the LDM `UNetModel` hyper-parameters the weights imply (ComfyUI's names).
- `unet_diffusers_config`: those plus the family's facts (heads, SDXL's time embedding) as a diffusers
  `UNet2DConditionModel` config.
- `load_unet`: the weights converted by diffusers' `convert_ldm_unet_checkpoint` and checked key by key.
- `unet_diffusers_to_ldm` / `key_table`: the way back (CheckpointSave, LoRA names), from diffusers'
  `DIFFUSERS_TO_LDM_MAPPING["unet"]` and the block arithmetic of the LDM layout.

diffusers is imported by the functions that need it, so detection stays light (the loader nodes import it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from comfy.families.base import Family, FamilyMatch, ModelDetectionError, WeightLoadError, first_keys, without_prefix
from comfy.families.key_tables import KeyTable, OriginalKey, Piece
from comfy.families.shapes import count_indices, shape
from comfy.families.weights import load_checked

MARKER = "input_blocks.0.0.weight"  # ComfyUI's marker of the UNet architecture


def _transformer_depth(state_dict: Mapping[str, Any], block_prefix: str) -> int:
    """Number of transformer blocks in the SpatialTransformer at `block_prefix` (e.g. 'input_blocks.1.1.')."""
    return count_indices(state_dict, re.escape(block_prefix) + r"transformer_blocks\.(\d+)\.")


def detect_unet_config(state_dict: Mapping[str, Any], key_prefix: str, out_channels: int | None = None
                       ) -> dict[str, Any]:
    """The LDM UNet hyper-parameters implied by the weights under `key_prefix`.

    Gives ComfyUI's names: in_channels, model_channels, out_channels, num_res_blocks (per level),
    channel_mult, transformer_depth (per input block), transformer_depth_middle (-1: no middle attention),
    transformer_depth_output (per output block), context_dim, use_linear_in_transformer, adm_in_channels
    (None without a `label_emb`), num_classes ("sequential" with one), attention_levels (levels with
    attention). Heads are not visible in the weights; the family description adds them.
    Raises ModelDetectionError naming the missing key for an incomplete UNet. out_channels: given for a UNet
    without an output layer (a ControlNet, the encoder half), else read from `out.2.weight`.
    """
    unet = without_prefix(state_dict, key_prefix)
    if MARKER not in unet:
        raise ModelDetectionError(
            f"No UNet under prefix {key_prefix!r}: {MARKER!r} is missing. First keys seen: {first_keys(state_dict)}"
        )
    model_channels, in_channels = shape(unet, MARKER)[:2]
    if out_channels is None:
        out_channels = shape(unet, "out.2.weight")[0]

    num_input_blocks = count_indices(unet, r"input_blocks\.(\d+)\.")
    num_output_blocks = count_indices(unet, r"output_blocks\.(\d+)\.")

    # Walk the input blocks: a block holding `0.op.weight` is a downsampler and closes a level.
    num_res_blocks: list[int] = []
    channel_mult: list[int] = []
    transformer_depth: list[int] = []
    res_blocks_in_level = 0
    level_channels = model_channels
    for index in range(1, num_input_blocks):
        block = f"input_blocks.{index}."
        if block + "0.op.weight" in unet:
            num_res_blocks.append(res_blocks_in_level)
            channel_mult.append(level_channels // model_channels)
            res_blocks_in_level = 0
            continue
        level_channels = shape(unet, block + "0.out_layers.3.weight")[0]
        transformer_depth.append(_transformer_depth(unet, block + "1."))
        res_blocks_in_level += 1
    num_res_blocks.append(res_blocks_in_level)
    channel_mult.append(level_channels // model_channels)

    transformer_depth_output = [_transformer_depth(unet, f"output_blocks.{index}.1.") for index in range(num_output_blocks)]
    transformer_depth_middle = _transformer_depth(unet, "middle_block.1.") if "middle_block.1.proj_in.weight" in unet else -1

    attention_key = next((key for key in unet if key.endswith(".attn2.to_k.weight")), None)
    context_dim = shape(unet, attention_key)[1] if attention_key else None
    proj_in_key = next((key for key in unet if key.endswith(".proj_in.weight")), None)
    use_linear_in_transformer = len(shape(unet, proj_in_key)) == 2 if proj_in_key else False

    adm_in_channels = shape(unet, "label_emb.0.0.weight")[1] if "label_emb.0.0.weight" in unet else None

    depths_per_level: list[int] = []
    position = 0
    for count in num_res_blocks:
        depths_per_level.append(max(transformer_depth[position : position + count], default=0))
        position += count
    attention_levels = [level for level, depth in enumerate(depths_per_level) if depth > 0]

    return {
        "in_channels": in_channels,
        "model_channels": model_channels,
        "out_channels": out_channels,
        "num_res_blocks": num_res_blocks,
        "channel_mult": channel_mult,
        "transformer_depth": transformer_depth,
        "transformer_depth_middle": transformer_depth_middle,
        "transformer_depth_output": transformer_depth_output,
        "context_dim": context_dim,
        "use_linear_in_transformer": use_linear_in_transformer,
        "adm_in_channels": adm_in_channels,
        "num_classes": "sequential" if adm_in_channels is not None else None,
        "attention_levels": attention_levels,
    }


def matches_exactly(family: Family, unet_config: Mapping[str, Any]) -> bool:
    """Whether a UNet config has every value of the family's full-size `exact_unet_match`."""
    expected = family.exact_unet_match
    return expected is not None and all(unet_config.get(key) == value for key, value in expected.items())


# --- diffusers config ----------------------------------------------------------------------------------------


def _per_level(values: list[int], counts: list[int], what: str) -> list[int]:
    """Split a per-block list into levels of `counts` blocks; every block in a level must agree."""
    levels: list[int] = []
    position = 0
    for count in counts:
        chunk = values[position : position + count]
        position += count
        if len(set(chunk)) > 1:
            raise ValueError(f"Unsupported UNet: the blocks of one level have different {what} ({chunk})")
        levels.append(chunk[0] if chunk else 0)
    return levels


def unet_diffusers_config(unet_config: dict[str, Any], family: Family) -> dict[str, Any]:
    """A `UNet2DConditionModel` config dict for a detected LDM UNet config (`detect_unet_config`'s result).

    `family` supplies what the weights cannot (attention heads, SDXL's time-embedding width, sample size).
    Raises ValueError for layouts diffusers' `UNet2DConditionModel` cannot express (uneven res blocks, mixed
    depths in a level).
    """
    num_res_blocks = unet_config["num_res_blocks"]
    if len(set(num_res_blocks)) != 1:
        raise ValueError(f"Unsupported UNet: levels have different numbers of res blocks ({num_res_blocks})")
    layers_per_block = num_res_blocks[0]
    block_out_channels = [unet_config["model_channels"] * mult for mult in unet_config["channel_mult"]]
    levels = len(block_out_channels)

    down_depths = _per_level(unet_config["transformer_depth"], num_res_blocks, "transformer depths")
    up_depths = _per_level(
        unet_config["transformer_depth_output"], [layers_per_block + 1] * levels, "transformer depths"
    )
    middle_depth = unet_config["transformer_depth_middle"]
    if middle_depth < 1:
        raise ValueError("Unsupported UNet: the middle block has no attention")
    # Levels without attention ignore their depth (1, diffusers' default), except that diffusers takes the
    # middle block's depth from the last level.
    transformer_layers = [depth if depth > 0 else 1 for depth in down_depths]
    if down_depths[-1] == 0:
        transformer_layers[-1] = middle_depth
    if transformer_layers[-1] != middle_depth:
        raise ValueError(
            f"Unsupported UNet: last level depth {transformer_layers[-1]} differs from the middle block's {middle_depth}"
        )

    if family.num_heads > 0:
        for channels in block_out_channels:
            if channels % family.num_heads:
                raise ValueError(f"Unsupported UNet: {channels} channels do not split into {family.num_heads} heads")
        attention_head_dim: int | list[int] = family.num_heads  # diffusers' name; it means heads here
    else:
        # 64-channel heads; a reduced-size level narrower than (or not a multiple of) 64 gets one head.
        head_channels = family.num_head_channels
        attention_head_dim = [channels // head_channels if channels % head_channels == 0 else 1
                              for channels in block_out_channels]

    config: dict[str, Any] = {
        "sample_size": family.sample_size,
        "in_channels": unet_config["in_channels"],
        "out_channels": unet_config["out_channels"],
        "down_block_types": ["CrossAttnDownBlock2D" if depth > 0 else "DownBlock2D" for depth in down_depths],
        "up_block_types": ["CrossAttnUpBlock2D" if depth > 0 else "UpBlock2D" for depth in up_depths],
        "block_out_channels": block_out_channels,
        "layers_per_block": layers_per_block,
        "cross_attention_dim": unet_config["context_dim"],
        "attention_head_dim": attention_head_dim,
        "use_linear_projection": unet_config["use_linear_in_transformer"],
        "transformer_layers_per_block": transformer_layers,
        "upcast_attention": family.upcast_attention,
        "class_embed_type": None,
        "addition_embed_type": None,
        "addition_time_embed_dim": None,
        "projection_class_embeddings_input_dim": None,
    }
    attention_up = [depth for depth in up_depths if depth > 0]
    if attention_up != [depth for depth in reversed(down_depths) if depth > 0]:
        actual_up = [depth if depth > 0 else 1 for depth in up_depths]
        config["reverse_transformer_layers_per_block"] = [[depth] * (layers_per_block + 1) for depth in actual_up]
    if unet_config["adm_in_channels"] is not None:
        if family.addition_time_embed_dim is None:
            raise ValueError(f"Family {family.name} has no label embedding but the UNet has one")
        config["addition_embed_type"] = "text_time"
        config["addition_time_embed_dim"] = family.addition_time_embed_dim
        config["projection_class_embeddings_input_dim"] = unet_config["adm_in_channels"]
    return config


# --- loading -------------------------------------------------------------------------------------------------


def load(state_dict: Mapping[str, torch.Tensor], match: FamilyMatch, family: Family, source_name: str,
         dtype: torch.dtype | None = torch.float32, operations: Any = None) -> Any:
    """The diffusers `UNet2DConditionModel` for the LDM/SGM UNet weights under `match.unet_prefix`.

    diffusers' `convert_ldm_unet_checkpoint` renames the weights (it reads them under its own `LDM_UNET_KEY`);
    `load_checked` builds the model and checks every key. dtype: the weights' dtype after loading (None keeps
    the file's); operations: a `comfy.ops` set whose layers the network is built from (a pack's own). Raises `WeightLoadError` naming `source_name` and the first bad keys.
    """
    from diffusers import UNet2DConditionModel
    from diffusers.loaders.single_file_utils import LDM_UNET_KEY, convert_ldm_unet_checkpoint

    unet_config = match.unet_config or detect_unet_config(state_dict, match.unet_prefix)
    try:
        config = unet_diffusers_config(unet_config, family)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    source = {LDM_UNET_KEY + key: value for key, value in without_prefix(state_dict, match.unet_prefix).items()}
    try:
        converted = convert_ldm_unet_checkpoint(source, config)
    except KeyError as error:
        raise WeightLoadError(f"{source_name}: the {family.name} UNet weights lack the key {error}")
    return load_checked(UNet2DConditionModel, config, source, converted, f"{family.name} UNet", source_name, dtype,
                        operations=operations)


# --- the way back --------------------------------------------------------------------------------------------

_UNET_RESNET_RENAMES = (
    ("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
    ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection"),
)


def _rename_resnet(rest: str) -> str:
    name, _, tail = rest.partition(".")
    for diffusers_name, ldm_name in _UNET_RESNET_RENAMES:
        if name == diffusers_name:
            return f"{ldm_name}.{tail}"
    raise KeyError(f"unknown resnet parameter {rest!r}")


def _ldm_name(key: str, per_level: int, up_has_attention: list[bool], top_level: Mapping[str, str]) -> str:
    if key in top_level:
        return top_level[key]
    parts = key.split(".")
    if parts[0] in ("down_blocks", "up_blocks"):
        block, kind, index, rest = int(parts[1]), parts[2], int(parts[3]), ".".join(parts[4:])
        if parts[0] == "down_blocks":
            if kind == "resnets":
                return f"input_blocks.{1 + block * per_level + index}.0.{_rename_resnet(rest)}"
            if kind == "attentions":
                return f"input_blocks.{1 + block * per_level + index}.1.{rest}"
            return f"input_blocks.{(block + 1) * per_level}.0.op.{rest.split('.', 1)[1]}"  # downsamplers.0.conv.*
        if kind == "resnets":
            return f"output_blocks.{block * per_level + index}.0.{_rename_resnet(rest)}"
        if kind == "attentions":
            return f"output_blocks.{block * per_level + index}.1.{rest}"
        slot = 2 if up_has_attention[block] else 1  # upsamplers.0.conv.*
        return f"output_blocks.{block * per_level + per_level - 1}.{slot}.{rest}"
    if parts[0] == "mid_block":
        kind, index, rest = parts[1], int(parts[2]), ".".join(parts[3:])
        return f"middle_block.{2 * index}.{_rename_resnet(rest)}" if kind == "resnets" else f"middle_block.1.{rest}"
    raise KeyError(f"no LDM name for UNet key {key!r}")


def unet_ldm_names(keys: list[str] | Any, config: Mapping[str, Any]) -> dict[str, str]:
    """diffusers `UNet2DConditionModel` parameter name -> LDM `UNetModel` name (no prefix), for `config`.

    Down block b, res block j -> input_blocks.{1 + b*(lpb+1) + j}.0 (attention .1), downsampler ->
    input_blocks.{(b+1)*(lpb+1)}.0.op; up block b, res block j -> output_blocks.{b*(lpb+1) + j}.0 (attention
    .1), upsampler -> output_blocks.{b*(lpb+1) + lpb}.{2 with attention else 1}.conv; mid -> middle_block.0/1/2;
    the rest from diffusers' `DIFFUSERS_TO_LDM_MAPPING["unet"]`.
    """
    from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

    top_level = {**DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"],
                 **DIFFUSERS_TO_LDM_MAPPING["unet"]["addition_embed_type"]}
    per_level = config["layers_per_block"] + 1
    up_has_attention = [block_type.startswith("CrossAttn") for block_type in config["up_block_types"]]
    return {key: _ldm_name(key, per_level, up_has_attention, top_level) for key in keys}


def unet_diffusers_to_ldm(state_dict: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """A `UNet2DConditionModel` state dict (with its `config`) in LDM `UNetModel` names (no prefix); tensors
    are shared, not copied."""
    names = unet_ldm_names(list(state_dict), config)
    return {names[key]: value for key, value in state_dict.items()}


def key_table(unet: torch.nn.Module) -> KeyTable:
    """LDM key -> the diffusers parameter it is, for a built `UNet2DConditionModel` (a pure renaming)."""
    state = unet.state_dict()
    names = unet_ldm_names(list(state), dict(unet.config))
    return {names[key]: OriginalKey(tuple(value.shape), (Piece(key, 0, value.shape[0] if value.ndim else 1),))
            for key, value in state.items()}
