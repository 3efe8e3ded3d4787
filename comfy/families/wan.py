"""Wan 2.1 and Wan 2.2 video transformers (ComfyUI's `WAN21_T2V`, `WAN21_I2V`, `WAN21_FunControl2V`, `WAN22_T2V`).

Files: the transformer in Alibaba's original layout (`patch_embedding`, `text_embedding.*`, `time_embedding.*`,
`time_projection.1`, `blocks.N.{self_attn,cross_attn,ffn,norm3,modulation}`, `head.*`, and for image-to-video
`img_emb.proj.*`); bare in `diffusion_models/`, or under the usual diffusion-model prefix of ComfyUI's files. The text
encoder is UMT5-XXL (CLIPLoader type `wan`); the VAE is Wan's own (16 channels for 2.1 and the 2.2 14B experts,
48 for the 2.2 TI2V 5B).

Detection: the marker `head.modulation`. Every size comes from the shapes: hidden `dim` and `out_dim` from the
head, `ffn_dim`, `in_dim` and the patch from `patch_embedding`, the text width from `text_embedding.0`, the time
sinusoid width from `time_embedding.0`, the block count; heads are `dim // 128` as in ComfyUI (1.3B: 12, 14B: 40,
5B: 24), so a reduced model needs a `dim` that is a multiple of 128. The variant follows ComfyUI's match order:
`out_dim` 48 is Wan 2.2 TI2V 5B (`WAN22_T2V`, Wan22 latents); without `img_emb` it is `WAN21_T2V` (Wan 2.1
1.3B/14B, and the Wan 2.2 14B T2V and I2V experts, which ComfyUI also loads as WAN21_T2V: the I2V expert reads 36
channels but has no CLIP-vision embedding); with `img_emb` and 36 input channels `WAN21_I2V` (`img_emb.emb_pos`
makes it the first-last-frame model, Kiln's `WAN21_FLF2V`, which ComfyUI runs as its WAN21_I2V class); with 48,
`WAN21_FunControl2V`. VACE, Camera, S2V, HuMo, Animate and the reference-conv models are recognised and refused
with a ModelDetectionError naming them (not supported yet).

Sampling: ComfyUI's discrete flow (CONST) with shift 8.0 and multiplier 1000, so the network sees sigma * 1000.

Keys: loading uses diffusers' `convert_wan_transformer_to_diffusers` into `WanTransformer3DModel` (the FLF2V
position embedding, which that converter leaves as it is, is renamed here); `key_table` is that conversion traced.
fp16 / bf16 / fp32 and fp8_e4m3fn files load as they are (cast to the compute dtype); ComfyUI's `scaled_fp8` files
(a `scaled_fp8` marker and a `<layer>.scale_weight` per fp8 Linear) are multiplied out at load, with those Linears'
biases rounded to fp8 as ComfyUI stores them (`dequantize_scaled_fp8`).
"""

from __future__ import annotations

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
    first_keys,
    without_prefix,
)
from comfy.families.key_tables import KeyTable, trace_converter
from comfy.families.shapes import count_indices, shape
from comfy.families.weights import check_original_layout, load_checked

_TEXT_ENCODERS = (
    TextEncoderPart("umt5xxl", comfy_text_encoder_prefix("umt5xxl"), "umt5",
                    ("lora_te_", "text_encoder.", comfy_text_encoder_prefix("umt5xxl"))),
)
_COMMON: dict[str, Any] = dict(
    architecture="wan", latent_scale_factor=1.0, prediction_type="flow", num_heads=-1, num_head_channels=128,
    text_encoders=_TEXT_ENCODERS, clip_type="wan", clip_skip_default=-1, sample_size=104,
    sampling_settings={"shift": 8.0, "multiplier": 1000.0},
    # ComfyUI 0.3.64 names a Wan LoRA's layers by their original keys only: its own `diffusion_model.` names,
    # kohya's `lora_unet_`, and Wan Fun's `lora_unet__` (which it renames to kohya's); no diffusers names.
    diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_", "lora_unet__"),
    diffusers_lora_prefixes=(),
    clip_loader_options=(("CLIPLoader", "wan"),), vae_prefix=COMFY_VAE_PREFIX,
)
WAN21_T2V = Family(name="WAN21_T2V", comfy_class="WAN21_T2V", model_class="WAN21", latent_format="Wan21",
                   **_COMMON)
WAN21_I2V = Family(name="WAN21_I2V", comfy_class="WAN21_I2V", model_class="WAN21", latent_format="Wan21",
                   **_COMMON)
WAN21_FLF2V = Family(name="WAN21_FLF2V", comfy_class="WAN21_I2V", model_class="WAN21", latent_format="Wan21",
                     **_COMMON)
WAN21_FUN_CONTROL = Family(name="WAN21_FunControl2V", comfy_class="WAN21_FunControl2V", model_class="WAN21",
                           latent_format="Wan21", **_COMMON)
WAN22_T2V = Family(name="WAN22_T2V", comfy_class="WAN22_T2V", model_class="WAN22", latent_format="Wan22",
                   **_COMMON)
FAMILIES = (WAN22_T2V, WAN21_T2V, WAN21_I2V, WAN21_FLF2V, WAN21_FUN_CONTROL)

# The families ComfyUI builds with `image_to_video=True` (how its concat_cond treats a picture latent whose
# channels do not fill the extra input channels).
IMAGE_TO_VIDEO_FAMILIES = frozenset({"WAN21_I2V", "WAN21_FLF2V", "WAN22_T2V"})

MARKER = "head.modulation"
HEAD_WIDTH = 128  # ComfyUI: num_heads = dim // 128
CLIP_VISION_WIDTH = 1280  # img_emb reads CLIP ViT-H/14's penultimate hidden states
FULL_SIZE_DIMS = {1536, 3072, 5120}  # 1.3B, 5B, 14B

# Marker key -> the ComfyUI variant that carries it, for the variants Kiln refuses (in ComfyUI's test order).
_UNSUPPORTED_MARKERS = (
    ("vace_patch_embedding.weight", "VACE (WAN21_Vace)"),
    ("control_adapter.conv.weight", "Camera (WAN21_Camera / WAN22_Camera)"),
    ("casual_audio_encoder.encoder.final_linear.weight", "Speech-to-video (WAN22_S2V)"),
    ("audio_proj.audio_proj_glob_1.layer.bias", "HuMo (WAN21_HuMo)"),
    ("face_adapter.fuser_blocks.0.k_norm.weight", "Animate (WAN22_Animate)"),
    ("ref_conv.weight", "Fun reference-image (ref_conv)"),
)


# --- detection -----------------------------------------------------------------------------------------------


def detect_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """A Wan transformer's hyper-parameters from its original-layout weights under `key_prefix`, in ComfyUI's
    names: image_model "wan2.1", model_type ("t2v" / "i2v"), dim, out_dim, num_heads, ffn_dim, num_layers,
    patch_size, freq_dim, text_dim, in_dim, cross_attn_norm, qk_norm, eps, and for image-to-video models image_dim
    (the CLIP-vision width) and flf_pos_embed_token_number (first-last-frame models). Raises
    ModelDetectionError naming a missing key, or a variant Kiln does not support."""
    wan = without_prefix(state_dict, key_prefix)
    for marker, variant in _UNSUPPORTED_MARKERS:
        if marker in wan:
            raise ModelDetectionError(
                f"This is a Wan {variant} model (it has {marker!r}): Kiln does not support that Wan variant yet. "
                "Wan 2.1 / 2.2 text-to-video, image-to-video, first-last-frame, Fun control and the 2.2 TI2V 5B "
                "load.")
    dim = shape(wan, MARKER)[-1]
    patch_embedding = shape(wan, "patch_embedding.weight")
    config: dict[str, Any] = {
        "image_model": "wan2.1",
        "model_type": "i2v" if "img_emb.proj.0.bias" in wan else "t2v",
        "dim": dim,
        "out_dim": shape(wan, "head.head.weight")[0] // max(1, _product(patch_embedding[2:])),
        "num_heads": dim // HEAD_WIDTH,
        "ffn_dim": shape(wan, "blocks.0.ffn.0.weight")[0],
        "num_layers": count_indices(wan, r"blocks\.(\d+)\."),
        "patch_size": tuple(patch_embedding[2:]),
        "freq_dim": shape(wan, "time_embedding.0.weight")[1],
        "text_dim": shape(wan, "text_embedding.0.weight")[1],
        "in_dim": patch_embedding[1],
        "cross_attn_norm": "blocks.0.norm3.weight" in wan,
        "qk_norm": "blocks.0.self_attn.norm_q.weight" in wan,
        "eps": 1e-6,
    }
    if config["model_type"] == "i2v":
        config["image_dim"] = shape(wan, "img_emb.proj.0.weight")[0]
    if "img_emb.emb_pos" in wan:
        config["flf_pos_embed_token_number"] = shape(wan, "img_emb.emb_pos")[1]
    if dim % HEAD_WIDTH:
        raise ModelDetectionError(f"Unsupported Wan transformer: hidden size {dim} is not a multiple of "
                                  f"{HEAD_WIDTH} (ComfyUI gives Wan heads of 128 channels)")
    return config


def _product(values: tuple[int, ...]) -> int:
    result = 1
    for value in values:
        result *= value
    return result


def family_of_config(config: Mapping[str, Any]) -> Family | None:
    """The Wan family of a detected config, in ComfyUI's match order; None when it is none of them (an
    image-to-video model with other than 36 or 48 input channels)."""
    if config["model_type"] == "t2v":
        return WAN22_T2V if config["out_dim"] == 48 else WAN21_T2V
    if config["in_dim"] == 36:
        return WAN21_FLF2V if "flf_pos_embed_token_number" in config else WAN21_I2V
    if config["in_dim"] == 48:
        return WAN21_FUN_CONTROL
    return None


def match(state_dict: Mapping[str, Any], prefix: str) -> FamilyMatch | None:
    """The Wan family of the transformer under `prefix`, or None when there is none. Raises ModelDetectionError
    for the Wan variants Kiln does not support."""
    if prefix + MARKER not in state_dict:
        return None
    config = detect_config(state_dict, prefix)
    family = family_of_config(config)
    if family is None:
        raise ModelDetectionError(
            f"Unsupported Wan image-to-video transformer: {config['in_dim']} input channels (ComfyUI knows 36, "
            f"and 48 for Fun control). First keys seen: {first_keys(state_dict)}")
    exact = config["dim"] in FULL_SIZE_DIMS and config["text_dim"] == 4096
    return FamilyMatch(family.name, family.comfy_class, family.prediction_type, exact, prefix, config,
                       architecture="wan")


# --- the original layout -------------------------------------------------------------------------------------


def _linear(layout: dict[str, tuple[int, ...]], name: str, out_features: int, in_features: int) -> None:
    layout[f"{name}.weight"] = (out_features, in_features)
    layout[f"{name}.bias"] = (out_features,)


def original_layout(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The Wan transformer's keys and shapes in the original layout for `config` (`detect_config`'s names)."""
    dim, ffn = config["dim"], config["ffn_dim"]
    patch = tuple(config["patch_size"])
    layout: dict[str, tuple[int, ...]] = {
        "patch_embedding.weight": (dim, config["in_dim"], *patch), "patch_embedding.bias": (dim,)}
    _linear(layout, "text_embedding.0", dim, config["text_dim"])
    _linear(layout, "text_embedding.2", dim, dim)
    _linear(layout, "time_embedding.0", dim, config["freq_dim"])
    _linear(layout, "time_embedding.2", dim, dim)
    _linear(layout, "time_projection.1", 6 * dim, dim)
    image_to_video = config["model_type"] == "i2v"
    for index in range(config["num_layers"]):
        block = f"blocks.{index}"
        for attention in ("self_attn", "cross_attn"):
            for name in ("q", "k", "v", "o"):
                _linear(layout, f"{block}.{attention}.{name}", dim, dim)
            if config["qk_norm"]:
                layout[f"{block}.{attention}.norm_q.weight"] = (dim,)
                layout[f"{block}.{attention}.norm_k.weight"] = (dim,)
        if image_to_video:
            _linear(layout, f"{block}.cross_attn.k_img", dim, dim)
            _linear(layout, f"{block}.cross_attn.v_img", dim, dim)
            if config["qk_norm"]:
                layout[f"{block}.cross_attn.norm_k_img.weight"] = (dim,)
        if config["cross_attn_norm"]:
            layout[f"{block}.norm3.weight"] = (dim,)
            layout[f"{block}.norm3.bias"] = (dim,)
        _linear(layout, f"{block}.ffn.0", ffn, dim)
        _linear(layout, f"{block}.ffn.2", dim, ffn)
        layout[f"{block}.modulation"] = (1, 6, dim)
    _linear(layout, "head.head", config["out_dim"] * _product(patch), dim)
    layout["head.modulation"] = (1, 2, dim)
    if image_to_video:
        image_dim = config.get("image_dim", CLIP_VISION_WIDTH)
        layout["img_emb.proj.0.weight"] = (image_dim,)
        layout["img_emb.proj.0.bias"] = (image_dim,)
        _linear(layout, "img_emb.proj.1", image_dim, image_dim)
        _linear(layout, "img_emb.proj.3", dim, image_dim)
        layout["img_emb.proj.4.weight"] = (dim,)
        layout["img_emb.proj.4.bias"] = (dim,)
        if "flf_pos_embed_token_number" in config:
            layout["img_emb.emb_pos"] = (1, config["flf_pos_embed_token_number"], image_dim)
    return layout


# --- the diffusers network -------------------------------------------------------------------------------------


def diffusers_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A `WanTransformer3DModel` config for a detected Wan config. Raises ValueError for what diffusers' Wan
    cannot express (no q/k norms, no blocks)."""
    if not config["qk_norm"]:
        raise ValueError("Unsupported Wan transformer: its attention has no q/k norms (Wan's all have them)")
    if config["num_layers"] < 1:
        raise ValueError("Unsupported Wan transformer: no blocks")
    image_to_video = config["model_type"] == "i2v"
    return {
        "patch_size": tuple(config["patch_size"]),
        "num_attention_heads": config["num_heads"],
        "attention_head_dim": config["dim"] // config["num_heads"],
        "in_channels": config["in_dim"],
        "out_channels": config["out_dim"],
        "text_dim": config["text_dim"],
        "freq_dim": config["freq_dim"],
        "ffn_dim": config["ffn_dim"],
        "num_layers": config["num_layers"],
        "cross_attn_norm": config["cross_attn_norm"],
        "qk_norm": "rms_norm_across_heads",
        "eps": config["eps"],
        "image_dim": config.get("image_dim", CLIP_VISION_WIDTH) if image_to_video else None,
        "added_kv_proj_dim": config["dim"] if image_to_video else None,
        "pos_embed_seq_len": config.get("flf_pos_embed_token_number"),
    }


_POSITION_EMBEDDING = ("img_emb.emb_pos", "condition_embedder.image_embedder.pos_embed")


def convert(source: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Diffusers names for original-layout Wan weights (bare keys), through diffusers'
    `convert_wan_transformer_to_diffusers` (which renames and passes the tensors through); the FLF2V position
    embedding it does not know is renamed here."""
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers

    remaining = dict(source)
    position = remaining.pop(_POSITION_EMBEDDING[0], None)
    converted = convert_wan_transformer_to_diffusers(remaining)
    if position is not None:
        converted[_POSITION_EMBEDDING[1]] = position
    return converted


SCALED_FP8_MARKER = "scaled_fp8"
_SCALE_WEIGHT = ".scale_weight"
_SCALE_INPUT = ".scale_input"


def dequantize_scaled_fp8(source: Mapping[str, torch.Tensor],
                          dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """ComfyUI's `scaled_fp8` weights (fp8 `<layer>.weight` with a float `<layer>.scale_weight`, a `scaled_fp8`
    marker whose dtype is the storage dtype, optional `<layer>.scale_input`) as plain weights in `dtype` (the
    compute dtype): what ComfyUI's scaled-fp8 Linear layers compute with, weight * scale_weight in that dtype, and
    their bias rounded to the storage dtype (ComfyUI stores those layers' biases in it too). Made one tensor at a
    time in `dtype`, so a 14B file never exists in float32 on a GPU load. Other files are returned as they are."""
    if SCALED_FP8_MARKER not in source:
        return dict(source)
    storage = source[SCALED_FP8_MARKER].dtype
    plain: dict[str, torch.Tensor] = {}
    for key, value in source.items():
        if key == SCALED_FP8_MARKER or key.endswith(_SCALE_WEIGHT) or key.endswith(_SCALE_INPUT):
            continue
        layer, _, kind = key.rpartition(".")
        scale = source.get(layer + _SCALE_WEIGHT)
        if scale is not None and kind == "weight":
            value = value.to(dtype) * scale.to(dtype)
        elif scale is not None and kind == "bias":
            value = value.to(storage).to(dtype)
        plain[key] = value
    return plain


def load(state_dict: Mapping[str, torch.Tensor], found: FamilyMatch, family: Family, source_name: str,
         dtype: torch.dtype | None = torch.float32, operations: Any = None) -> Any:
    """The diffusers `WanTransformer3DModel` for the original-layout weights under `found.unet_prefix`.

    The weights are compared with the layout their shapes describe, converted, and checked again in diffusers'
    names (`load_checked`). Raises `WeightLoadError` naming `source_name` and the first missing (with the
    expected shape) / unexpected / wrong-shape keys."""
    from diffusers import WanTransformer3DModel

    if operations is not None:
        raise WeightLoadError(f"{source_name}: Kiln's Wan does not take custom operations (GGUF packs) yet")
    source = dequantize_scaled_fp8(without_prefix(state_dict, found.unet_prefix), dtype or torch.float32)
    what = f"{found.name} transformer"
    try:
        config = diffusers_config(found.unet_config)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    check_original_layout(source, original_layout(found.unet_config), what, source_name)
    network = load_checked(WanTransformer3DModel, config, source, convert(source), what, source_name, dtype)
    # ComfyUI keeps the patch embedding in float32 whatever the model's dtype.
    import comfy.wan_network

    comfy.wan_network.keep_patch_embedding_float32(network, source["patch_embedding.weight"],
                                                   source["patch_embedding.bias"])
    # With UNETLoader's fp8 weight dtype ComfyUI stores every Wan parameter in fp8 (norms, modulations too).
    network.kiln_weight_dtype_rounds_all_parameters = True
    # The RoPE tables are buffers outside the state dict: built anew off the meta device.
    rope = network.rope
    network.rope = type(rope)(rope.attention_head_dim, rope.patch_size, rope.max_seq_len)
    return network


def network_config(network: torch.nn.Module) -> dict[str, Any]:
    """The detected-config values of a built `WanTransformer3DModel` that its original layout depends on."""
    config = network.config
    dim = config.num_attention_heads * config.attention_head_dim
    image_to_video = config.added_kv_proj_dim is not None
    found: dict[str, Any] = {
        "model_type": "i2v" if image_to_video else "t2v", "dim": dim, "out_dim": config.out_channels,
        "num_heads": config.num_attention_heads, "ffn_dim": config.ffn_dim, "num_layers": config.num_layers,
        "patch_size": tuple(config.patch_size), "freq_dim": config.freq_dim, "text_dim": config.text_dim,
        "in_dim": config.in_channels, "cross_attn_norm": bool(config.cross_attn_norm), "qk_norm": True,
        "eps": config.eps}
    if image_to_video:
        found["image_dim"] = config.image_dim
    if config.pos_embed_seq_len is not None:
        found["flf_pos_embed_token_number"] = config.pos_embed_seq_len
    return found


def key_table(network: torch.nn.Module) -> KeyTable:
    """Original key -> the diffusers parameter it becomes, read off the loading conversion."""
    return trace_converter(convert, original_layout(network_config(network)))

