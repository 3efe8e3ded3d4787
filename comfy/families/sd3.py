"""Stable Diffusion 3 / 3.5 (ComfyUI's `SD3`, and `SD35` for files with RMS q/k norms).

Files: the MMDiT in Stability's layout (`joint_blocks.*`, `x_embedder.*`, `pos_embed`, ...; bare in
`diffusion_models/`, under the usual diffusion-model prefix in a checkpoint) or in diffusers' layout
(`transformer_blocks.*.attn.add_q_proj` with `pos_embed.proj`); CLIP-L, CLIP-G and T5-XXL, each optional
(under ComfyUI's own text-encoder prefixes in a checkpoint, or separate files for TripleCLIPLoader / DualCLIPLoader
and CLIPLoader type `sd3`); the 16-channel VAE.

Detection: the marker `joint_blocks.0.context_block.attn.qkv.weight`. Sizes come from the shapes, as in
ComfyUI: hidden = `x_embedder.proj` width = 64 * depth with 64-wide heads, patch size, positional-embedding grid
(`pos_embed` [1, N*N, hidden]), pooled (`y_embedder`) and context (`context_embedder`) widths, RMS q/k norms when
`attn.ln_q` is present (SD3.5), and MMDiT-X's second attention (`x_block.attn2`, SD3.5 medium). Model type FLOW,
shift 3.0, multiplier 1000.

Keys: loading uses diffusers' `convert_sd3_transformer_checkpoint_to_diffusers`; `key_table` is that converter
traced, for LoRAs in Stability's names and for CheckpointSave.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import torch

from comfy.families.base import (
    Family,
    FamilyMatch,
    ModelDetectionError,
    TextEncoderPart,
    WeightLoadError,
    comfy_text_encoder_prefix,
    first_keys,
    without_prefix,
)
from comfy.families.key_tables import KeyTable, trace_converter
from comfy.families.shapes import count_indices, first_match_shape, indices, shape
from comfy.families.weights import check_original_layout, load_checked

SD3 = Family(
    name="SD3", comfy_class="SD3", architecture="mmdit", model_class="SD3", latent_format="SD3",
    latent_scale_factor=1.5305, latent_shift_factor=0.0609, prediction_type="flow", num_heads=-1,
    num_head_channels=64, clip_type="sd3", clip_skip_default=-1, sample_size=128,
    sampling_settings={"shift": 3.0, "multiplier": 1000.0},
    text_encoders=(
        TextEncoderPart("clip_l", comfy_text_encoder_prefix("clip_l"), "comfy_clip",
                        ("lora_te1_", "text_encoder.", comfy_text_encoder_prefix("clip_l"), "lora_te_"), optional=True),
        TextEncoderPart("clip_g", comfy_text_encoder_prefix("clip_g"), "comfy_clip",
                        ("lora_te2_", "text_encoder_2.", comfy_text_encoder_prefix("clip_g")), optional=True),
        TextEncoderPart("t5xxl", comfy_text_encoder_prefix("t5xxl"), "t5",
                        ("lora_te3_", comfy_text_encoder_prefix("t5xxl")), optional=True),
    ),
    diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_"),
    diffusers_lora_prefixes=("transformer.", "base_model.model.", "lora_transformer_", "lycoris_"),
    clip_loader_options=(("CLIPLoader", "sd3"), ("DualCLIPLoader", "sd3"), ("TripleCLIPLoader", "")),
)
FAMILIES = (SD3,)

MARKER = "joint_blocks.0.context_block.attn.qkv.weight"
DIFFUSERS_MARKER = "transformer_blocks.0.attn.add_q_proj.weight"
DIFFUSERS_INPUT_KEY = "pos_embed.proj.weight"  # SD3's convolutional patch embedding (Flux's is a linear)
HEAD_WIDTH = 64
QK_NORM_WIDTH = 64  # SD3.5's RMS q/k norms act per 64-wide head
TIMESTEP_EMBEDDING_WIDTH = 256


# --- detection -----------------------------------------------------------------------------------------------


def layout_name(state_dict: Mapping[str, Any], prefix: str) -> str | None:
    """"stability" or "diffusers" when an SD3 MMDiT is under `prefix`, else None."""
    if prefix + MARKER in state_dict:
        return "stability"
    if prefix + DIFFUSERS_MARKER in state_dict and prefix + DIFFUSERS_INPUT_KEY in state_dict:
        return "diffusers"
    return None


def _config(hidden_size: int, in_channels: int, patch_size: int, positions: int | None,
            packed_out_channels: int, **sizes: Any) -> dict[str, Any]:
    return {
        "image_model": "sd3",
        "hidden_size": hidden_size,
        "depth": hidden_size // HEAD_WIDTH,
        "num_heads": hidden_size // HEAD_WIDTH,
        "patch_size": patch_size,
        "in_channels": in_channels,
        "out_channels": packed_out_channels // (patch_size * patch_size),
        "pos_embed_max_size": round(math.sqrt(positions)) if positions else None,
        "mlp_ratio": sizes.pop("mlp_width") / hidden_size,
        **sizes,
    }


def detect_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """SD3's MMDiT hyper-parameters from its weights under `key_prefix` (ComfyUI's names).

    hidden_size and depth (= hidden / 64, ComfyUI's head count) from `x_embedder.proj.weight`; num_layers
    (the joint blocks present), patch_size, in/out channels, pos_embed_max_size (sqrt of `pos_embed`'s
    positions), adm_in_channels (None without `y_embedder`), context_in_dim, qk_norm ("rms_norm" or None),
    x_block_self_attn_layers (SD3.5 medium's second attention), weights_layout "stability".
    """
    mmdit = without_prefix(state_dict, key_prefix)
    hidden_size, in_channels, patch_size, _ = shape(mmdit, "x_embedder.proj.weight")
    return _config(
        hidden_size, in_channels, patch_size,
        positions=shape(mmdit, "pos_embed")[1] if "pos_embed" in mmdit else None,
        packed_out_channels=shape(mmdit, "final_layer.linear.weight")[0],
        num_layers=count_indices(mmdit, r"joint_blocks\.(\d+)\."),
        adm_in_channels=shape(mmdit, "y_embedder.mlp.0.weight")[1] if "y_embedder.mlp.0.weight" in mmdit else None,
        context_in_dim=shape(mmdit, "context_embedder.weight")[1],
        mlp_width=first_match_shape(mmdit, r"joint_blocks\.\d+\.x_block\.mlp\.fc1\.weight$")[0],
        qk_norm="rms_norm" if any(key.endswith("x_block.attn.ln_q.weight") for key in mmdit) else None,
        x_block_self_attn_layers=indices(mmdit, r"joint_blocks\.(\d+)\.x_block\.attn2\."),
        weights_layout="stability",
    )


def detect_diffusers_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """`detect_config`'s result for an SD3 transformer saved in diffusers' layout (`pos_embed.proj`,
    `transformer_blocks.*`, `time_text_embed.*`), with weights_layout "diffusers"."""
    mmdit = without_prefix(state_dict, key_prefix)
    hidden_size, in_channels, patch_size, _ = shape(mmdit, DIFFUSERS_INPUT_KEY)
    text_embedder = "time_text_embed.text_embedder.linear_1.weight"
    return _config(
        hidden_size, in_channels, patch_size,
        positions=shape(mmdit, "pos_embed.pos_embed")[1] if "pos_embed.pos_embed" in mmdit else None,
        packed_out_channels=shape(mmdit, "proj_out.weight")[0],
        num_layers=count_indices(mmdit, r"transformer_blocks\.(\d+)\."),
        adm_in_channels=shape(mmdit, text_embedder)[1] if text_embedder in mmdit else None,
        context_in_dim=shape(mmdit, "context_embedder.weight")[1],
        mlp_width=first_match_shape(mmdit, r"transformer_blocks\.\d+\.ff\.net\.0\.proj\.weight$")[0],
        qk_norm="rms_norm" if any(re.match(r"transformer_blocks\.\d+\.attn\.norm_q\.weight$", key)
                                  for key in mmdit) else None,
        x_block_self_attn_layers=indices(mmdit, r"transformer_blocks\.(\d+)\.attn2\."),
        weights_layout="diffusers",
    )


def match(state_dict: Mapping[str, Any], prefix: str) -> FamilyMatch | None:
    """The SD3 family match of the MMDiT under `prefix`, or None when there is none."""
    layout = layout_name(state_dict, prefix)
    if layout is None:
        return None
    config = (detect_config if layout == "stability" else detect_diffusers_config)(state_dict, prefix)
    if config["pos_embed_max_size"] is None:
        raise ModelDetectionError(f"SD3 MMDiT without 'pos_embed'. First keys seen: {first_keys(state_dict)}")
    exact = config["context_in_dim"] == 4096 and config["adm_in_channels"] == 2048
    comfy_class = "SD3" if config["qk_norm"] is None else "SD35"
    return FamilyMatch(SD3.name, comfy_class, SD3.prediction_type, exact, prefix, config, architecture="mmdit")


# --- the original layout -------------------------------------------------------------------------------------


def _linear(layout: dict[str, tuple[int, ...]], name: str, out_features: int, in_features: int) -> None:
    layout[f"{name}.weight"] = (out_features, in_features)
    layout[f"{name}.bias"] = (out_features,)


def original_layout(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """SD3's MMDiT keys and shapes for `config` (hidden_size, num_layers, patch_size, in/out_channels,
    pos_embed_max_size, adm_in_channels, context_in_dim, mlp_ratio, qk_norm, x_block_self_attn_layers).

    The last joint block's context branch is pre-only (q/k/v and a 2-way modulation, no projection or MLP);
    an MMDiT-X block (SD3.5 medium) has a second image attention `attn2` and a 9-way modulation.
    """
    hidden, patch = config["hidden_size"], config["patch_size"]
    mlp = int(hidden * config["mlp_ratio"])
    second_attention = set(config["x_block_self_attn_layers"])
    layout: dict[str, tuple[int, ...]] = {}
    _linear(layout, "context_embedder", hidden, config["context_in_dim"])
    layout["x_embedder.proj.weight"] = (hidden, config["in_channels"], patch, patch)
    layout["x_embedder.proj.bias"] = (hidden,)
    if config["pos_embed_max_size"]:
        layout["pos_embed"] = (1, config["pos_embed_max_size"] ** 2, hidden)
    _linear(layout, "t_embedder.mlp.0", hidden, TIMESTEP_EMBEDDING_WIDTH)
    _linear(layout, "t_embedder.mlp.2", hidden, hidden)
    if config["adm_in_channels"] is not None:
        _linear(layout, "y_embedder.mlp.0", hidden, config["adm_in_channels"])
        _linear(layout, "y_embedder.mlp.2", hidden, hidden)
    for index in range(config["num_layers"]):
        for branch in ("x_block", "context_block"):
            block = f"joint_blocks.{index}.{branch}"
            pre_only = branch == "context_block" and index == config["num_layers"] - 1
            dual = branch == "x_block" and index in second_attention
            _linear(layout, f"{block}.adaLN_modulation.1", (2 if pre_only else 9 if dual else 6) * hidden, hidden)
            for attention in ("attn", "attn2") if dual else ("attn",):
                _linear(layout, f"{block}.{attention}.qkv", 3 * hidden, hidden)
                if config["qk_norm"]:
                    layout[f"{block}.{attention}.ln_q.weight"] = (QK_NORM_WIDTH,)
                    layout[f"{block}.{attention}.ln_k.weight"] = (QK_NORM_WIDTH,)
                if not pre_only:
                    _linear(layout, f"{block}.{attention}.proj", hidden, hidden)
            if not pre_only:
                _linear(layout, f"{block}.mlp.fc1", mlp, hidden)
                _linear(layout, f"{block}.mlp.fc2", hidden, mlp)
    _linear(layout, "final_layer.adaLN_modulation.1", 2 * hidden, hidden)
    _linear(layout, "final_layer.linear", patch * patch * config["out_channels"], hidden)
    return layout


# --- the diffusers network -------------------------------------------------------------------------------------


def diffusers_config(mmdit_config: dict[str, Any]) -> dict[str, Any]:
    """An `SD3Transformer2DModel` config for a detected MMDiT config (`detect_config`'s result).

    Heads are 64 wide (ComfyUI: `num_heads = depth = hidden / 64`); the number of joint blocks is the one in
    the file. Raises ValueError for layouts diffusers' SD3 cannot express.
    """
    hidden = mmdit_config["hidden_size"]
    if hidden % HEAD_WIDTH:
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
        "attention_head_dim": HEAD_WIDTH,
        "num_attention_heads": hidden // HEAD_WIDTH,
        "joint_attention_dim": mmdit_config["context_in_dim"],
        "caption_projection_dim": hidden,
        "pooled_projection_dim": mmdit_config["adm_in_channels"],
        "pos_embed_max_size": mmdit_config["pos_embed_max_size"],
        "dual_attention_layers": tuple(mmdit_config["x_block_self_attn_layers"]),
        "qk_norm": mmdit_config["qk_norm"],
    }


def convert(source: dict[str, torch.Tensor]) -> tuple[dict[str, Any], list[str]]:
    """(diffusers state dict, source keys the converter left unused) for Stability-layout MMDiT weights (bare
    keys), through diffusers' `convert_sd3_transformer_checkpoint_to_diffusers`."""
    from diffusers.loaders.single_file_utils import convert_sd3_transformer_checkpoint_to_diffusers

    remaining = dict(source)
    converted = convert_sd3_transformer_checkpoint_to_diffusers(remaining)
    return converted, list(remaining)


def load(state_dict: Mapping[str, torch.Tensor], found: FamilyMatch, family: Family, source_name: str,
         dtype: torch.dtype | None = torch.float32, operations: Any = None) -> Any:
    """The diffusers SD3 MMDiT for the weights under `found.unet_prefix` (its layers built from `operations`, a
    `comfy.ops` set, when given).

    Checked like FLUX.1's: against the layout its shapes describe, then in diffusers' names. Raises
    `WeightLoadError` naming `source_name` and the first missing / unexpected / wrong-shape keys.
    """
    from diffusers import SD3Transformer2DModel

    source = without_prefix(state_dict, found.unet_prefix)
    try:
        config = diffusers_config(found.unet_config)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    if found.unet_config.get("weights_layout") == "diffusers":
        return load_checked(SD3Transformer2DModel, config, source, dict(source), "SD3 transformer", source_name,
                            dtype, operations=operations)
    check_original_layout(source, original_layout(found.unet_config), "SD3 transformer", source_name)
    converted, leftover = convert(source)
    return load_checked(SD3Transformer2DModel, config, source, converted, "SD3 transformer", source_name, dtype,
                        leftover, operations=operations)


def network_config(network: torch.nn.Module) -> dict[str, Any]:
    """The detected-config values of a built `SD3Transformer2DModel` that its original layout depends on."""
    config = network.config
    hidden = config.num_attention_heads * config.attention_head_dim
    state = network.state_dict()
    return {"hidden_size": hidden, "num_layers": config.num_layers, "patch_size": config.patch_size,
            "in_channels": config.in_channels, "out_channels": config.out_channels,
            "pos_embed_max_size": config.pos_embed_max_size, "adm_in_channels": config.pooled_projection_dim,
            "context_in_dim": config.joint_attention_dim,
            "mlp_ratio": state["transformer_blocks.0.ff.net.0.proj.weight"].shape[0] / hidden,
            "qk_norm": config.qk_norm, "x_block_self_attn_layers": list(config.dual_attention_layers)}


def key_table(network: torch.nn.Module) -> KeyTable:
    """Stability key -> the rows of the diffusers parameters it becomes, read off the loading converter."""
    return trace_converter(lambda source: convert(source)[0], original_layout(network_config(network)))
