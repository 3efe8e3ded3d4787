"""FLUX.1 dev and schnell (ComfyUI's `Flux` / `FluxSchnell`).

Files: the transformer in Black Forest Labs' layout (`double_blocks.*`, `single_blocks.*`, `img_in`, ...; bare in
`diffusion_models/`, under the usual diffusion-model prefix in an all-in-one checkpoint) or in diffusers' layout
(`transformer_blocks.*`, `single_transformer_blocks.*`, which ComfyUI's UNETLoader loads too); CLIP-L and
T5-XXL (under ComfyUI's own text-encoder prefixes in a checkpoint, or separate files for DualCLIPLoader type
`flux`); the 16-channel VAE (the shared LDM autoencoder).

Detection: the marker `double_blocks.0.img_attn.norm.key_norm.scale` with `img_in.weight` (BFL), or
`single_transformer_blocks.0.attn.norm_k.weight` with `x_embedder.weight` (diffusers). With `guidance_in.*`
it is dev (model type FLUX, `ModelSamplingFlux` shift 1.15), without it schnell (FLOW, shift 1.0).

ComfyUI hardcodes hidden 3072, 24 heads of 128, context 4096, pooled 768, MLP ratio 4 and RoPE axes [16, 56, 56];
only the block counts come from its keys. Kiln reads every size from the shapes (hidden from `img_in`, head width
from the q/k norm scales, context from `txt_in`, pooled width from `vector_in`), so a reduced model loads too; a
full-size file gives ComfyUI's numbers.

Keys: loading uses diffusers' `convert_flux_transformer_checkpoint_to_diffusers`; `key_table` is that converter
traced (`comfy.families.key_tables`), so LoRAs in BFL names and CheckpointSave go through the same mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from comfy.families.base import (
    COMFY_VAE_PREFIX,
    Family,
    FamilyMatch,
    ModelDetectionError,
    TextEncoderPart,
    WeightLoadError,
    comfy_text_encoder_prefix,
    without_prefix,
)
from comfy.families.key_tables import KeyTable, trace_converter
from comfy.families.shapes import count_indices, first_match_shape, shape
from comfy.families.weights import check_original_layout, load_checked

# LoRA names as ComfyUI 0.3.64 maps them (tests/fixtures/comfyui_lora/key_maps.json): kohya's te1 for CLIP-L and
# te2 (OneTrainer) or te3 (sd-scripts) for T5.
_TEXT_ENCODERS = (
    TextEncoderPart("clip_l", comfy_text_encoder_prefix("clip_l"), "comfy_clip",
                    ("lora_te1_", "text_encoder.", comfy_text_encoder_prefix("clip_l"), "lora_te_")),
    TextEncoderPart("t5xxl", comfy_text_encoder_prefix("t5xxl"), "t5",
                    ("lora_te2_", "lora_te3_", comfy_text_encoder_prefix("t5xxl"))),
)
_COMMON: dict[str, Any] = dict(
    architecture="flux", model_class="Flux", latent_format="Flux", latent_scale_factor=0.3611,
    latent_shift_factor=0.1159, num_heads=-1, num_head_channels=128, text_encoders=_TEXT_ENCODERS, clip_type="flux",
    clip_skip_default=-1, sample_size=128, diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_"),
    diffusers_lora_prefixes=("transformer.", "lora_transformer_", "lycoris_"),
    clip_loader_options=(("DualCLIPLoader", "flux"),), vae_prefix=COMFY_VAE_PREFIX,
)
FLUX = Family(name="Flux", comfy_class="Flux", prediction_type="flux", sampling_settings={"shift": 1.15}, **_COMMON)
FLUX_SCHNELL = Family(name="FluxSchnell", comfy_class="FluxSchnell", prediction_type="flow",
                      sampling_settings={"shift": 1.0, "multiplier": 1.0}, **_COMMON)
FAMILIES = (FLUX, FLUX_SCHNELL)

MARKER = "double_blocks.0.img_attn.norm.key_norm.scale"
INPUT_KEY = "img_in.weight"  # the patch embedding (with `double_blocks.*`, Flux even without the marker)
DIFFUSERS_MARKER = "single_transformer_blocks.0.attn.norm_k.weight"
DIFFUSERS_INPUT_KEY = "x_embedder.weight"

# ComfyUI's FLUX.1 constants (the full-size values; `exact` is True when a file has them).
HIDDEN_SIZE = 3072
NUM_HEADS = 24
CONTEXT_DIM = 4096
POOLED_DIM = 768
AXES_DIM = (16, 56, 56)
THETA = 10000
PATCH_SIZE = 2
TIMESTEP_EMBEDDING_WIDTH = 256  # timesteps (and dev's guidance) are embedded with 256 sinusoids


# --- detection -----------------------------------------------------------------------------------------------


def layout_name(state_dict: Mapping[str, Any], prefix: str) -> str | None:
    """"bfl" or "diffusers" when a FLUX.1 transformer is under `prefix`, else None."""
    if prefix + INPUT_KEY in state_dict and (prefix + MARKER in state_dict or any(
            key.startswith(prefix + "double_blocks.") for key in state_dict)):
        return "bfl"  # a file missing its first double block still has the rest of the BFL layout
    if prefix + DIFFUSERS_MARKER in state_dict and prefix + DIFFUSERS_INPUT_KEY in state_dict:
        return "diffusers"
    return None


def rope_axes(head_dim: int) -> tuple[int, int, int]:
    """RoPE widths per position axis (index, row, column) for a head width: FLUX.1's [16, 56, 56] at 128,
    the same proportions (1/8, 7/16, 7/16) for a reduced head width, which must be a multiple of 32 (each axis
    rotates pairs of channels)."""
    if head_dim == sum(AXES_DIM):
        return AXES_DIM
    if head_dim % 32:
        raise ModelDetectionError(f"Unsupported Flux head width {head_dim}: Kiln needs 128 or a multiple of 32")
    return (head_dim // 8, head_dim * 7 // 16, head_dim * 7 // 16)


def _config(hidden_size: int, packed_channels: int, head_dim: int, **sizes: Any) -> dict[str, Any]:
    patch_area = PATCH_SIZE * PATCH_SIZE
    if hidden_size % head_dim:
        raise ModelDetectionError(f"Flux hidden size {hidden_size} is not a multiple of its head width {head_dim}")
    return {
        "image_model": "flux",
        "in_channels": packed_channels // patch_area,
        "out_channels": sizes.pop("packed_out_channels") // patch_area,
        "patch_size": PATCH_SIZE,
        "hidden_size": hidden_size,
        "num_heads": hidden_size // head_dim,
        "head_dim": head_dim,
        "mlp_ratio": sizes.pop("mlp_width") / hidden_size,
        **sizes,
        "axes_dim": list(rope_axes(head_dim)),
        "theta": THETA,
    }


def detect_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """A FLUX.1 transformer's hyper-parameters from its BFL-layout weights under `key_prefix`.

    Gives ComfyUI's names: in_channels / out_channels (latent channels, 16), patch_size, hidden_size,
    num_heads, head_dim, mlp_ratio, depth (double blocks), depth_single_blocks, context_in_dim, vec_in_dim,
    axes_dim, theta, qkv_bias, guidance_embed, and weights_layout "bfl". Raises ModelDetectionError naming a
    missing key.
    """
    flux = without_prefix(state_dict, key_prefix)
    hidden_size, packed_channels = shape(flux, INPUT_KEY)
    # Per-block sizes from whichever block is there, so a file missing a block is reported by the layout check.
    return _config(
        hidden_size, packed_channels,
        head_dim=first_match_shape(flux, r"(double|single)_blocks\.\d+\..*query_norm\.scale$")[0],
        packed_out_channels=shape(flux, "final_layer.linear.weight")[0],
        mlp_width=first_match_shape(flux, r"double_blocks\.\d+\.img_mlp\.0\.weight$")[0],
        depth=count_indices(flux, r"double_blocks\.(\d+)\."),
        depth_single_blocks=count_indices(flux, r"single_blocks\.(\d+)\."),
        context_in_dim=shape(flux, "txt_in.weight")[1],
        vec_in_dim=shape(flux, "vector_in.in_layer.weight")[1],
        qkv_bias=any(re.match(r"double_blocks\.\d+\.img_attn\.qkv\.bias$", key) for key in flux),
        guidance_embed="guidance_in.in_layer.weight" in flux,
        weights_layout="bfl",
    )


def detect_diffusers_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """`detect_config`'s result for a FLUX.1 transformer saved in diffusers' layout (`x_embedder`,
    `transformer_blocks.*`, `single_transformer_blocks.*`), with weights_layout "diffusers"."""
    flux = without_prefix(state_dict, key_prefix)
    hidden_size, packed_channels = shape(flux, DIFFUSERS_INPUT_KEY)
    return _config(
        hidden_size, packed_channels,
        head_dim=first_match_shape(flux, r"(single_)?transformer_blocks\.\d+\.attn\.norm_q\.weight$")[0],
        packed_out_channels=shape(flux, "proj_out.weight")[0],
        mlp_width=first_match_shape(flux, r"transformer_blocks\.\d+\.ff\.net\.0\.proj\.weight$")[0],
        depth=count_indices(flux, r"transformer_blocks\.(\d+)\."),
        depth_single_blocks=count_indices(flux, r"single_transformer_blocks\.(\d+)\."),
        context_in_dim=shape(flux, "context_embedder.weight")[1],
        vec_in_dim=shape(flux, "time_text_embed.text_embedder.linear_1.weight")[1],
        qkv_bias=any(re.match(r"transformer_blocks\.\d+\.attn\.to_q\.bias$", key) for key in flux),
        guidance_embed="time_text_embed.guidance_embedder.linear_1.weight" in flux,
        weights_layout="diffusers",
    )


def match(state_dict: Mapping[str, Any], prefix: str) -> FamilyMatch | None:
    """The FLUX.1 family (dev or schnell) of the transformer under `prefix`, or None when there is none."""
    layout = layout_name(state_dict, prefix)
    if layout is None:
        return None
    config = (detect_config if layout == "bfl" else detect_diffusers_config)(state_dict, prefix)
    exact = (config["hidden_size"] == HIDDEN_SIZE and config["num_heads"] == NUM_HEADS
             and config["context_in_dim"] == CONTEXT_DIM and config["vec_in_dim"] == POOLED_DIM)
    family = FLUX if config["guidance_embed"] else FLUX_SCHNELL
    return FamilyMatch(family.name, family.comfy_class, family.prediction_type, exact, prefix, config,
                       architecture="flux")


# --- the original layout -------------------------------------------------------------------------------------


def _linear(layout: dict[str, tuple[int, ...]], name: str, out_features: int, in_features: int) -> None:
    layout[f"{name}.weight"] = (out_features, in_features)
    layout[f"{name}.bias"] = (out_features,)


def original_layout(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """FLUX.1's keys and shapes in BFL's layout for `config` (hidden_size, head_dim, mlp_ratio, depth,
    depth_single_blocks, context_in_dim, vec_in_dim, in_channels, out_channels, patch_size, guidance_embed)."""
    hidden = config["hidden_size"]
    mlp = int(hidden * config["mlp_ratio"])
    patch_area = config["patch_size"] ** 2
    layout: dict[str, tuple[int, ...]] = {}
    _linear(layout, "img_in", hidden, config["in_channels"] * patch_area)
    _linear(layout, "txt_in", hidden, config["context_in_dim"])
    embedders = [("time_in", TIMESTEP_EMBEDDING_WIDTH), ("vector_in", config["vec_in_dim"])]
    if config["guidance_embed"]:
        embedders.append(("guidance_in", TIMESTEP_EMBEDDING_WIDTH))
    for name, width in embedders:
        _linear(layout, f"{name}.in_layer", hidden, width)
        _linear(layout, f"{name}.out_layer", hidden, hidden)
    for index in range(config["depth"]):
        for stream in ("img", "txt"):
            block = f"double_blocks.{index}.{stream}"
            layout[f"{block}_attn.norm.key_norm.scale"] = (config["head_dim"],)
            layout[f"{block}_attn.norm.query_norm.scale"] = (config["head_dim"],)
            _linear(layout, f"{block}_attn.proj", hidden, hidden)
            _linear(layout, f"{block}_attn.qkv", 3 * hidden, hidden)
            _linear(layout, f"{block}_mlp.0", mlp, hidden)
            _linear(layout, f"{block}_mlp.2", hidden, mlp)
            _linear(layout, f"{block}_mod.lin", 6 * hidden, hidden)
    for index in range(config["depth_single_blocks"]):
        block = f"single_blocks.{index}"
        _linear(layout, f"{block}.linear1", 3 * hidden + mlp, hidden)
        _linear(layout, f"{block}.linear2", hidden, hidden + mlp)
        _linear(layout, f"{block}.modulation.lin", 3 * hidden, hidden)
        layout[f"{block}.norm.key_norm.scale"] = (config["head_dim"],)
        layout[f"{block}.norm.query_norm.scale"] = (config["head_dim"],)
    _linear(layout, "final_layer.adaLN_modulation.1", 2 * hidden, hidden)
    _linear(layout, "final_layer.linear", config["out_channels"] * patch_area, hidden)
    return layout


# --- the diffusers network -------------------------------------------------------------------------------------


def diffusers_config(flux_config: dict[str, Any]) -> dict[str, Any]:
    """A `FluxTransformer2DModel` config for a detected FLUX.1 config (`detect_config`'s result).

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


# diffusers' Flux converter splits each single block's fused `linear1` (q, k, v, MLP) with FLUX.1's widths
# written into it (3072, mlp 12288); Kiln splits it at the file's own widths and hands the converter
# shape-only stand-ins, so reduced models convert too.
_DIFFUSERS_LINEAR1_ROWS = 3 * HIDDEN_SIZE + 4 * HIDDEN_SIZE


def convert(source: dict[str, torch.Tensor], flux_config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(diffusers state dict, source keys the converter left unused) for BFL-layout Flux weights (bare keys),
    through diffusers' `convert_flux_transformer_checkpoint_to_diffusers`."""
    from diffusers.loaders.single_file_utils import convert_flux_transformer_checkpoint_to_diffusers

    return convert_with(convert_flux_transformer_checkpoint_to_diffusers, source, flux_config)


def convert_with(converter: Any, source: Mapping[str, torch.Tensor], flux_config: Mapping[str, Any]
                 ) -> tuple[dict[str, Any], list[str]]:
    """`converter` (diffusers' for FLUX.1 or a derived family, Chroma) on BFL-layout weights whose single blocks'
    fused `linear1` is split here at the file's own widths: (diffusers state dict, source keys left unused)."""
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
            remaining[key] = torch.empty((_DIFFUSERS_LINEAR1_ROWS, *fused.shape[1:2]), device="meta")
    converted = converter(remaining)
    converted.update(splits)
    return converted, list(remaining)


def load(state_dict: Mapping[str, torch.Tensor], found: FamilyMatch, family: Family, source_name: str,
         dtype: torch.dtype | None = torch.float32, operations: Any = None) -> Any:
    """The diffusers FLUX.1 transformer for the weights under `found.unet_prefix` (its layers built from
    `operations`, a `comfy.ops` set, when given).

    BFL-layout weights are first compared with the layout their shapes describe, then converted and checked
    again in diffusers' names; a file already in diffusers' layout loads as it is (checked in those names).
    Raises `WeightLoadError` naming `source_name` and the first missing (with the expected shape) / unexpected /
    wrong-shape keys.
    """
    from diffusers import FluxTransformer2DModel

    source = without_prefix(state_dict, found.unet_prefix)
    what = f"{found.name} transformer"
    try:
        config = diffusers_config(found.unet_config)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    if found.unet_config.get("weights_layout") == "diffusers":
        return load_checked(FluxTransformer2DModel, config, source, dict(source), what, source_name, dtype,
                            operations=operations)
    check_original_layout(source, original_layout(found.unet_config), what, source_name)
    converted, leftover = convert(source, found.unet_config)
    return load_checked(FluxTransformer2DModel, config, source, converted, what, source_name, dtype, leftover,
                        operations=operations)


def network_config(network: torch.nn.Module) -> dict[str, Any]:
    """The detected-config values of a built `FluxTransformer2DModel` that its original layout depends on."""
    config = network.config
    hidden = config.num_attention_heads * config.attention_head_dim
    state = network.state_dict()
    return {"hidden_size": hidden, "head_dim": config.attention_head_dim,
            "mlp_ratio": state["single_transformer_blocks.0.proj_mlp.weight"].shape[0] / hidden,
            "depth": config.num_layers, "depth_single_blocks": config.num_single_layers,
            "context_in_dim": config.joint_attention_dim, "vec_in_dim": config.pooled_projection_dim,
            "in_channels": config.in_channels // PATCH_SIZE**2, "out_channels": config.out_channels // PATCH_SIZE**2,
            "patch_size": PATCH_SIZE, "guidance_embed": bool(config.guidance_embeds)}


def key_table(network: torch.nn.Module) -> KeyTable:
    """BFL key -> the rows of the diffusers parameters it becomes, read off the loading converter."""
    config = network_config(network)
    return trace_converter(lambda source: convert(source, config)[0], original_layout(config))


def extra_lora_names(table: KeyTable) -> dict[str, tuple[str, int, int]]:
    """XLabs' LoRA names for FLUX.1 (`double_blocks.N.processor.qkv_lora1`, `proj_lora1` for the image stream,
    `..._lora2` for the text stream, `single_blocks.N.processor.qkv_lora` for q, k and v only, `proj_lora`) and
    ComfyUI's `diffusion_model.single_blocks.N.linear1_qkv` (q, k and v of `linear1`), each -> (BFL key, first
    row, end row) of the weight it adapts. ComfyUI applies these only when a file also has one of
    XLabs' full-size marker keys (`double_blocks.18.processor.qkv_lora2.up.weight`, ...); Kiln by their names."""
    names: dict[str, tuple[str, int, int]] = {}
    for key, entry in table.items():
        double = re.match(r"double_blocks\.(\d+)\.(img|txt)_attn\.(qkv|proj)\.weight$", key)
        if double:
            index, stream, kind = double.groups()
            names[f"double_blocks.{index}.processor.{kind}_lora{1 if stream == 'img' else 2}"] = (key, 0,
                                                                                                  entry.shape[0])
        single = re.match(r"single_blocks\.(\d+)\.linear(1|2)\.weight$", key)
        if single:
            index, which = single.groups()
            if which == "1":
                hidden = table[f"single_blocks.{index}.linear2.weight"].shape[0]
                names[f"single_blocks.{index}.processor.qkv_lora"] = (key, 0, 3 * hidden)
                names[f"diffusion_model.single_blocks.{index}.linear1_qkv"] = (key, 0, 3 * hidden)
            else:
                names[f"single_blocks.{index}.processor.proj_lora"] = (key, 0, entry.shape[0])
    return names
