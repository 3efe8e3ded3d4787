"""SDXL base and refiner (ComfyUI's `SDXL` and `SDXLRefiner`).

A single-file checkpoint keeps the UNet and the VAE under the usual LDM prefixes (`base.py`) and
its text encoders under `conditioner.embedders.N.`: the base has CLIP-L (transformers layout, embedder 0) and
OpenCLIP bigG (OpenCLIP layout, embedder 1); the refiner bigG alone (embedder 0). Kohya LoRAs call CLIP-L
`lora_te1_` and bigG `lora_te2_`, and name UNet layers by their LDM names.

Full size: base 320 channels, context 2048, adm 2816, transformer depth [0,0,2,2,10,10]; refiner 384 channels,
context 1280, adm 2560. A reduced model: ComfyUI embeds every size number with a fixed 256-wide sinusoid, 6 numbers
for the base (`adm = pooled + 6*256`) and 5 for the refiner (`adm = pooled + 5*256`, and the refiner conditions
on bigG alone so `pooled == context_dim`): `adm_in_channels - 1280 == context_dim` marks a refiner, anything else
with a `label_emb` and linear `proj_in` the base. A `label_emb` with context 1024 is SD2.1 unCLIP (CLIP-vision
features), not SDXL. SDXL is eps unless the checkpoint has a top-level `v_pred` key (then v-prediction; with
`ztsnr` as well, zero-terminal-SNR).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from comfy.families import unet
from comfy.families.base import Family, FamilyMatch, TextEncoderPart

TIME_EMBED_DIM = 256  # each size / crop / aesthetic number is embedded with a 256-wide sinusoid
BASE_TIME_IDS = 6
REFINER_TIME_IDS = 5
UNCLIP_CONTEXT_DIM = 1024
V_PREDICTION_KEY = "v_pred"
ZERO_TERMINAL_SNR_KEY = "ztsnr"

_COMMON: dict[str, Any] = dict(
    architecture="unet", latent_format="SDXL", latent_scale_factor=0.13025, prediction_type="eps", num_heads=-1,
    num_head_channels=64, clip_skip_default=-2, sample_size=128, addition_time_embed_dim=TIME_EMBED_DIM,
    diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_"), diffusers_lora_prefixes=("unet.", "lora_unet_"),
)
SDXL = Family(
    name="SDXL", comfy_class="SDXL", model_class="SDXL", clip_type="sdxl",
    text_encoders=(TextEncoderPart("clip_g", "conditioner.embedders.1.model.", "open_clip",
                                   ("lora_te2_", "text_encoder_2.")),
                   TextEncoderPart("clip_l", "conditioner.embedders.0.transformer.", "hf_clip",
                                   ("lora_te1_", "text_encoder."))),
    clip_loader_options=(("DualCLIPLoader", "sdxl"),), modelspec_architecture="stable-diffusion-xl-v1-base",
    exact_unet_match={"model_channels": 320, "use_linear_in_transformer": True, "context_dim": 2048,
                      "adm_in_channels": 2816, "transformer_depth": [0, 0, 2, 2, 10, 10],
                      "transformer_depth_middle": 10},
    **_COMMON,
)
SDXL_REFINER = Family(
    name="SDXLRefiner", comfy_class="SDXLRefiner", model_class="SDXLRefiner", clip_type="stable_diffusion",
    text_encoders=(TextEncoderPart("clip_g", "conditioner.embedders.0.model.", "open_clip",
                                   ("lora_te_", "lora_te1_", "text_encoder.")),),
    clip_loader_options=(("CLIPLoader", "stable_diffusion"),),
    modelspec_architecture="stable-diffusion-xl-v1-refiner",
    exact_unet_match={"model_channels": 384, "use_linear_in_transformer": True, "context_dim": 1280,
                      "adm_in_channels": 2560, "transformer_depth": [0, 0, 4, 4, 4, 4, 0, 0],
                      "transformer_depth_middle": 4},
    **_COMMON,
)
# 8 input channels: instruct-pix2pix (the image to edit concatenated to the latent).
SDXL_INSTRUCTPIX2PIX = dataclasses.replace(SDXL, name="SDXL_instructpix2pix", comfy_class="SDXL_instructpix2pix",
                                           model_class="SDXL_instructpix2pix")
FAMILIES = (SDXL_REFINER, SDXL, SDXL_INSTRUCTPIX2PIX)  # ComfyUI tries the refiner first


def _has_sdxl_label_embedding(unet_config: Mapping[str, Any]) -> bool:
    return (unet_config["context_dim"] is not None and unet_config["adm_in_channels"] is not None
            and unet_config["context_dim"] != UNCLIP_CONTEXT_DIM and unet_config["use_linear_in_transformer"])


def _is_refiner_structure(unet_config: Mapping[str, Any]) -> bool:
    return (_has_sdxl_label_embedding(unet_config)
            and unet_config["adm_in_channels"] - REFINER_TIME_IDS * TIME_EMBED_DIM == unet_config["context_dim"])


def _is_base_structure(unet_config: Mapping[str, Any]) -> bool:
    return (_has_sdxl_label_embedding(unet_config) and not _is_refiner_structure(unet_config)
            and unet_config["adm_in_channels"] > BASE_TIME_IDS * TIME_EMBED_DIM)


def _match(family: Family, structure: bool, unet_config: dict[str, Any], state_dict: Mapping[str, Any],
           prefix: str, exact: bool) -> FamilyMatch | None:
    if not (unet.matches_exactly(family, unet_config) if exact else structure):
        return None
    v_prediction = V_PREDICTION_KEY in state_dict
    return FamilyMatch(family.name, family.comfy_class, "v_prediction" if v_prediction else family.prediction_type,
                       exact, prefix, unet_config,
                       zero_terminal_snr=v_prediction and ZERO_TERMINAL_SNR_KEY in state_dict)


def match_refiner(unet_config: dict[str, Any], state_dict: Mapping[str, Any], prefix: str,
                  exact: bool) -> FamilyMatch | None:
    """The SDXL refiner, when `unet_config` matches (exactly, or by structure)."""
    return _match(SDXL_REFINER, _is_refiner_structure(unet_config), unet_config, state_dict, prefix, exact)


def match_base(unet_config: dict[str, Any], state_dict: Mapping[str, Any], prefix: str,
               exact: bool) -> FamilyMatch | None:
    """SDXL base (or its instruct-pix2pix variant), when `unet_config` matches (exactly, or by structure)."""
    family = SDXL_INSTRUCTPIX2PIX if unet_config["in_channels"] == 8 else SDXL
    return _match(family, _is_base_structure(unet_config), unet_config, state_dict, prefix, exact)
