"""From a detected family and its weights to diffusers configs and loaded diffusers models (UNet, flow
transformers and VAE).

One loader path per architecture: `detect_unet_config` gives the LDM hyper-parameters, `unet_diffusers_config`
turns them (plus the family's data in `comfy.model_configs`) into a `UNet2DConditionModel` config,
diffusers' own `convert_ldm_unet_checkpoint` renames the weights offline, and `load_unet` checks every key
and shape before building the model. FLUX.1 and SD3 go the same way with `flux_diffusers_config` /
`sd3_diffusers_config` and diffusers' single-file converters (`load_flux`, `load_sd3`; `load_diffusion_model`
picks by architecture): configs are always built here from the shapes, never fetched from a hub. The VAE
(4- or 16-channel) goes through `vae_diffusers_config` and `load_vae`. Text encoders are not built here;
`text_encoder_slots` says which kinds a checkpoint has and where.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from diffusers import AutoencoderKL, FluxTransformer2DModel, SD3Transformer2DModel, UNet2DConditionModel
from diffusers.loaders.single_file_utils import (
    convert_flux_transformer_checkpoint_to_diffusers,
    convert_ldm_unet_checkpoint,
    convert_ldm_vae_checkpoint,
    convert_sd3_transformer_checkpoint_to_diffusers,
)

import comfy.utils
from comfy import flow_layouts
from comfy.model_configs import FAMILY_CONFIGS, FamilyConfig
from comfy.model_detection import (
    UNET_PREFIX,
    VAE_PREFIXES,
    FamilyMatch,
    TextEncoderInfo,
    detect_unet_config,
    model_family,
    text_encoders_in,
    unet_prefix_from_state_dict,
)

__all__ = [
    "FAMILY_CONFIGS",
    "FamilyConfig",
    "WeightLoadError",
    "family_config",
    "flux_diffusers_config",
    "load_diffusion_model",
    "load_flux",
    "load_sd3",
    "load_unet",
    "load_vae",
    "sd3_diffusers_config",
    "text_encoder_slots",
    "unet_diffusers_config",
    "vae_diffusers_config",
]

# ComfyUI's match order (`supported_models.models`) restricted to the families Kiln loads.
models = ["SD15", "SD20", "SDXLRefiner", "SDXL", "SD3", "Flux", "FluxSchnell"]

VAE_NORM_NUM_GROUPS = 32  # every SD/SDXL VAE; not visible in the weights


class WeightLoadError(RuntimeError):
    """Weights that do not fit the model built for them; the message names the file and the first bad keys."""


def family_config(family: FamilyMatch | str) -> FamilyConfig:
    """The `FamilyConfig` data for a family name ("SD15", "SD21", ...) or a `FamilyMatch`."""
    name = family.name if isinstance(family, FamilyMatch) else family
    try:
        return FAMILY_CONFIGS[name]
    except KeyError:
        raise ValueError(f"Unknown model family {name!r}; known: {', '.join(FAMILY_CONFIGS)}")


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


def unet_diffusers_config(unet_config: dict[str, Any], family: FamilyMatch | str | None = None) -> dict[str, Any]:
    """A `UNet2DConditionModel` config dict for a detected LDM UNet config (`detect_unet_config`'s result).

    `family` supplies what the weights cannot (attention heads, SDXL's time-embedding width, sample size);
    None uses SD1's heads for a conv `proj_in` UNet and 64-channel heads otherwise. Raises ValueError for
    layouts diffusers' `UNet2DConditionModel` cannot express (uneven res blocks, mixed depths in a level).
    """
    if family is None:
        family = "SD15" if not unet_config["use_linear_in_transformer"] else (
            "SDXL" if unet_config["adm_in_channels"] is not None else "SD20"
        )
    config_data = family_config(family)

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

    if config_data.num_heads > 0:
        for channels in block_out_channels:
            if channels % config_data.num_heads:
                raise ValueError(f"Unsupported UNet: {channels} channels do not split into {config_data.num_heads} heads")
        attention_head_dim: int | list[int] = config_data.num_heads  # diffusers' name; it means heads here
    else:
        # 64-channel heads; a reduced-size level narrower than (or not a multiple of) 64 gets one head.
        head_channels = config_data.num_head_channels
        attention_head_dim = [channels // head_channels if channels % head_channels == 0 else 1
                              for channels in block_out_channels]

    config: dict[str, Any] = {
        "sample_size": config_data.sample_size,
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
        "upcast_attention": config_data.upcast_attention,
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
        if config_data.addition_time_embed_dim is None:
            raise ValueError(f"Family {config_data.name} has no label embedding but the UNet has one")
        config["addition_embed_type"] = "text_time"
        config["addition_time_embed_dim"] = config_data.addition_time_embed_dim
        config["projection_class_embeddings_input_dim"] = unet_config["adm_in_channels"]
    return config


def _strip_vae_prefix(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    for prefix in VAE_PREFIXES:
        if any(key.startswith(prefix) for key in state_dict):
            return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
    return {key: value for key, value in state_dict.items() if key.startswith(("encoder.", "decoder.", "quant_conv.",
                                                                             "post_quant_conv."))}


def _count(keys: Any, prefix: str) -> int:
    indices = {int(key[len(prefix):].split(".")[0]) for key in keys if key.startswith(prefix)}
    return max(indices) + 1 if indices else 0


def vae_diffusers_config(vae_state_dict: Mapping[str, Any], scaling_factor: float = 0.18215) -> dict[str, Any]:
    """An `AutoencoderKL` config dict derived from LDM VAE weight shapes (bare or `first_stage_model.` keys).

    block_out_channels from `encoder.down.N.block.0.conv1`, layers_per_block from the number of encoder
    res blocks per level, latent_channels from `decoder.conv_in`. `scaling_factor` is the family's latent
    scale (0.18215 SD1/SD2, 0.13025 SDXL).
    """
    vae = _strip_vae_prefix(vae_state_dict)
    if "encoder.conv_in.weight" not in vae or "decoder.conv_in.weight" not in vae:
        first = ", ".join(repr(key) for key in list(vae_state_dict)[:8])
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


def _first(items: list[str], count: int = 5) -> str:
    shown = ", ".join(items[:count])
    return shown + (f" (and {len(items) - count} more)" if len(items) > count else "")


def _load_checked(model_class: type, config: dict[str, Any], source: dict[str, torch.Tensor],
                  converted: dict[str, Any], what: str, source_name: str, dtype: torch.dtype | None,
                  leftover: list[str] | None = None) -> Any:
    """Build `model_class(**config)` without allocating, check keys and shapes, then load `converted` into it.

    A source key is "unexpected" when its tensor ended up nowhere in `converted` (tracked by tensor identity:
    the converters pass tensors through or take views of them), or, for converters that copy (the flow
    transformers' `torch.cat`) and pop what they use, when it is in `leftover` (the keys they did not take).
    """
    with torch.device("meta"):
        model = model_class(**config)
    expected = model.state_dict()

    def identities(tensor: torch.Tensor) -> list[Any]:
        """What ties a converted tensor to its source, most specific first: itself, (off the meta device) its
        memory, and the tensor it views (the converters pass tensors through or slice them)."""
        found: list[Any] = [id(tensor)]
        if tensor.device.type != "meta" and tensor.numel() > 0:
            found.append((tensor.data_ptr(), tensor.numel()))
        if tensor._base is not None:
            found.append(id(tensor._base))
        return found

    used: set[Any] = set()
    for value in converted.values():
        if isinstance(value, torch.Tensor):
            used.update(identities(value))
    source_key_of: dict[Any, str] = {}
    for key, tensor in source.items():
        for identity in identities(tensor):
            source_key_of.setdefault(identity, key)

    missing = [key for key in expected if converted.get(key) is None]
    if leftover is None:
        unexpected = [key for key in source if not used.intersection(identities(source[key]))]
    else:
        unexpected = list(leftover)
    unexpected += [key for key in converted if key not in expected]
    wrong_shapes = [
        f"{next((source_key_of[i] for i in identities(value) if i in source_key_of), key)} (diffusers {key}): file {tuple(value.shape)}, "
        f"model {tuple(expected[key].shape)}"
        for key, value in converted.items()
        if key in expected and value is not None and tuple(value.shape) != tuple(expected[key].shape)
    ]
    _raise_if_misfit(source_name, what, missing, unexpected, wrong_shapes, missing_label="missing keys (diffusers names)")

    if dtype is not None:
        converted = comfy.utils.cast_in_one_block(converted, dtype)
    model.load_state_dict(converted, strict=True, assign=True)
    return model.eval()


def load_unet(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch | str | None, source_name: str,
              dtype: torch.dtype | None = torch.float32) -> UNet2DConditionModel:
    """Build the diffusers UNet for the LDM/SGM UNet weights in `state_dict` (a checkpoint or a UNet alone).

    family: the `model_family` result, a family name, or None to detect it. source_name: the file name used
    in error messages. dtype: the weights' dtype after loading (None keeps the file's). Raises
    `WeightLoadError` naming `source_name` and the first missing / unexpected / wrong-shape keys.
    """
    if not isinstance(family, FamilyMatch):
        detected = model_family(state_dict, source_name=source_name)
        if family is not None and family != detected.name:
            raise WeightLoadError(f"{source_name}: the UNet is {detected.name}, not {family}")
        family = detected
    prefix = family.unet_prefix if family.unet_prefix is not None else unet_prefix_from_state_dict(state_dict)
    unet_config = family.unet_config or detect_unet_config(state_dict, prefix)
    try:
        config = unet_diffusers_config(unet_config, family)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    source = {UNET_PREFIX + key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
    try:
        converted = convert_ldm_unet_checkpoint(source, config)
    except KeyError as error:
        raise WeightLoadError(f"{source_name}: the {family.name} UNet weights lack the key {error}")
    return _load_checked(UNet2DConditionModel, config, source, converted, f"{family.name} UNet", source_name, dtype)


def flux_diffusers_config(flux_config: dict[str, Any]) -> dict[str, Any]:
    """A `FluxTransformer2DModel` config for a detected FLUX.1 config (`detect_flux_config`'s result).

    diffusers works on the packed latent (2x2 patches of 16 channels = 64 features, patch_size 1). Raises
    ValueError for what diffusers' Flux cannot express (an MLP ratio other than 4, no qkv bias, no blocks).
    """
    if flux_config["mlp_ratio"] != 4.0:
        raise ValueError(f"Unsupported Flux: MLP ratio {flux_config['mlp_ratio']} (diffusers' Flux has 4)")
    if not flux_config["qkv_bias"]:
        raise ValueError("Unsupported Flux: the attention projections have no bias (FLUX.1 has one)")
    if flux_config["depth"] < 1 or flux_config["depth_single_blocks"] < 1:
        raise ValueError(f"Unsupported Flux: {flux_config['depth']} double and {flux_config['depth_single_blocks']} "
                         "single blocks (at least one of each)")
    patch_area = flux_config["patch_size"] ** 2
    return {
        "patch_size": 1,
        "in_channels": flux_config["in_channels"] * patch_area,
        "out_channels": flux_config["out_channels"] * patch_area,
        "num_layers": flux_config["depth"],
        "num_single_layers": flux_config["depth_single_blocks"],
        "attention_head_dim": flux_config["head_dim"],
        "num_attention_heads": flux_config["num_heads"],
        "joint_attention_dim": flux_config["context_in_dim"],
        "pooled_projection_dim": flux_config["vec_in_dim"],
        "guidance_embeds": flux_config["guidance_embed"],
        "axes_dims_rope": tuple(flux_config["axes_dim"]),
    }


def sd3_diffusers_config(mmdit_config: dict[str, Any]) -> dict[str, Any]:
    """An `SD3Transformer2DModel` config for a detected MMDiT config (`detect_mmdit_config`'s result).

    Heads are 64 wide (ComfyUI: `num_heads = depth = hidden / 64`); the number of joint blocks is the one in
    the file. Raises ValueError for layouts diffusers' SD3 cannot express.
    """
    hidden = mmdit_config["hidden_size"]
    if hidden % 64:
        raise ValueError(f"Unsupported SD3: hidden size {hidden} is not a multiple of the 64-wide heads")
    if mmdit_config["mlp_ratio"] != 4.0:
        raise ValueError(f"Unsupported SD3: MLP ratio {mmdit_config['mlp_ratio']} (diffusers' MMDiT has 4)")
    if mmdit_config["adm_in_channels"] is None:
        raise ValueError("Unsupported SD3: no pooled-text embedding ('y_embedder')")
    return {
        "sample_size": 128,
        "patch_size": mmdit_config["patch_size"],
        "in_channels": mmdit_config["in_channels"],
        "out_channels": mmdit_config["out_channels"],
        "num_layers": mmdit_config["num_layers"],
        "attention_head_dim": 64,
        "num_attention_heads": hidden // 64,
        "joint_attention_dim": mmdit_config["context_in_dim"],
        "caption_projection_dim": hidden,
        "pooled_projection_dim": mmdit_config["adm_in_channels"],
        "pos_embed_max_size": mmdit_config["pos_embed_max_size"],
        "dual_attention_layers": tuple(mmdit_config["x_block_self_attn_layers"]),
        "qk_norm": mmdit_config["qk_norm"],
    }


# diffusers' Flux converter splits each single block's fused `linear1` (q, k, v, MLP) with FLUX.1's widths
# written into it (3072, mlp 12288); Kiln splits it at the file's own widths and hands the converter
# shape-only stand-ins, so reduced models convert too.
_DIFFUSERS_FLUX_LINEAR1_ROWS = 3 * 3072 + 4 * 3072


def _convert_flux(source: dict[str, torch.Tensor], flux_config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(diffusers state dict, source keys the converter left unused) for BFL-layout Flux weights (bare keys,
    already checked against `flow_layouts.flux_layout`)."""
    hidden = flux_config["hidden_size"]
    widths = (hidden, hidden, hidden, int(hidden * flux_config["mlp_ratio"]))
    names = ("attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp")
    remaining = dict(source)
    splits: dict[str, torch.Tensor] = {}
    for index in range(flux_config["depth_single_blocks"]):
        for kind in ("weight", "bias"):
            key = f"single_blocks.{index}.linear1.{kind}"
            fused = remaining[key]
            for name, part in zip(names, torch.split(fused, widths, dim=0), strict=True):
                splits[f"single_transformer_blocks.{index}.{name}.{kind}"] = part
            remaining[key] = torch.empty((_DIFFUSERS_FLUX_LINEAR1_ROWS, *fused.shape[1:2]), device="meta")
    converted = convert_flux_transformer_checkpoint_to_diffusers(remaining)
    converted.update(splits)
    return converted, list(remaining)


def _without_prefix(state_dict: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def _check_original_layout(source: Mapping[str, torch.Tensor], layout: flow_layouts.Layout, what: str,
                           source_name: str) -> None:
    """Refuse weights that differ from the layout their own shapes describe, in the file's key names."""
    missing, unexpected, wrong_shapes = flow_layouts.layout_problems(source, layout)
    _raise_if_misfit(source_name, what, missing, unexpected, wrong_shapes)


def _raise_if_misfit(source_name: str, what: str, missing: list[str], unexpected: list[str],
                     wrong_shapes: list[str], missing_label: str = "missing keys") -> None:
    """WeightLoadError naming the file and the first offending keys of each kind, if there are any."""
    problems = [f"{label} {_first(items)}" for label, items in
                ((missing_label, missing), ("unexpected keys", unexpected), ("wrong shapes", wrong_shapes)) if items]
    if problems:
        raise WeightLoadError(f"{source_name}: the {what} weights do not fit the model: " + "; ".join(problems))


def load_flux(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch, source_name: str,
              dtype: torch.dtype | None = torch.float32) -> FluxTransformer2DModel:
    """The diffusers FLUX.1 transformer for BFL-layout weights (bare, or under the family's prefix).

    The file is first compared with the layout its shapes describe (`comfy.flow_layouts`), then converted with
    diffusers' converter and checked again in diffusers' names; a file already in diffusers' layout loads as
    it is (checked in those names). Raises `WeightLoadError` naming `source_name` and the first missing (with
    the expected shape) / unexpected / wrong-shape keys.
    """
    source = _without_prefix(state_dict, family.unet_prefix)
    what = f"{family.name} transformer"
    try:
        config = flux_diffusers_config(family.unet_config)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    if family.unet_config.get("weights_layout") == "diffusers":
        return _load_checked(FluxTransformer2DModel, config, source, dict(source), what, source_name, dtype)
    _check_original_layout(source, flow_layouts.flux_layout(family.unet_config), what, source_name)
    converted, leftover = _convert_flux(source, family.unet_config)
    return _load_checked(FluxTransformer2DModel, config, source, converted, what, source_name, dtype, leftover)


def load_sd3(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch, source_name: str,
             dtype: torch.dtype | None = torch.float32) -> SD3Transformer2DModel:
    """The diffusers SD3 MMDiT for Stability-layout weights (bare, or under the family's prefix).

    Checked like `load_flux`: against the layout its shapes describe, then in diffusers' names. Raises
    `WeightLoadError` naming `source_name` and the first missing / unexpected / wrong-shape keys.
    """
    source = _without_prefix(state_dict, family.unet_prefix)
    try:
        config = sd3_diffusers_config(family.unet_config)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    if family.unet_config.get("weights_layout") == "diffusers":
        return _load_checked(SD3Transformer2DModel, config, source, dict(source), "SD3 transformer", source_name,
                             dtype)
    _check_original_layout(source, flow_layouts.mmdit_layout(family.unet_config), "SD3 transformer", source_name)
    remaining = dict(source)
    converted = convert_sd3_transformer_checkpoint_to_diffusers(remaining)
    return _load_checked(SD3Transformer2DModel, config, source, converted, "SD3 transformer", source_name, dtype,
                         list(remaining))


def load_diffusion_model(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch, source_name: str,
                         dtype: torch.dtype | None = torch.float32) -> torch.nn.Module:
    """The diffusers network of a detected family: a UNet, a FLUX.1 or an SD3 transformer."""
    if family.architecture == "flux":
        return load_flux(state_dict, family, source_name, dtype)
    if family.architecture == "mmdit":
        return load_sd3(state_dict, family, source_name, dtype)
    return load_unet(state_dict, family, source_name, dtype)


def load_vae(state_dict: Mapping[str, torch.Tensor], source_name: str, scaling_factor: float = 0.18215,
             dtype: torch.dtype | None = torch.float32) -> AutoencoderKL:
    """Build the diffusers `AutoencoderKL` for LDM VAE weights (a VAE file, or a checkpoint's `first_stage_model.`).

    Raises `WeightLoadError` naming `source_name` and the first missing / unexpected / wrong-shape keys.
    """
    try:
        config = vae_diffusers_config(state_dict, scaling_factor)
    except (ValueError, KeyError) as error:
        raise WeightLoadError(f"{source_name}: {error}")
    source = _strip_vae_prefix(state_dict)
    try:
        converted = convert_ldm_vae_checkpoint(source, config)
    except KeyError as error:
        raise WeightLoadError(f"{source_name}: the VAE weights lack the key {error}")
    return _load_checked(AutoencoderKL, config, source, converted, "VAE", source_name, dtype)


def text_encoder_slots(state_dict: Mapping[str, Any]) -> tuple[TextEncoderInfo, ...]:
    """The text encoders in a checkpoint or text-encoder file: kind ("clip_l"/"clip_h"/"clip_g"), key prefix,
    layout ("hf_clip"/"open_clip"), hidden size, layer count and projection width."""
    return text_encoders_in(state_dict)
