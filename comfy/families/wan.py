"""Wan 2.1 / 2.2 (ComfyUI's `WAN21_T2V`): the family's text-encoder part and CLIP loader option.

A minimal declaration so that CLIPLoader type `wan` builds Wan's UMT5-XXL text encoder
(`comfy.text_encoders.umt5`); the diffusion transformer's detection, loading and key table are added with it.
"""

from __future__ import annotations

from typing import Any

from comfy.families.base import COMFY_VAE_PREFIX, Family, TextEncoderPart, comfy_text_encoder_prefix

_TEXT_ENCODERS = (
    TextEncoderPart("umt5xxl", comfy_text_encoder_prefix("umt5xxl"), "umt5",
                    ("lora_te_", "text_encoder.", comfy_text_encoder_prefix("umt5xxl"))),
)
_COMMON: dict[str, Any] = dict(
    architecture="wan", latent_scale_factor=1.0, prediction_type="flow", num_heads=-1, num_head_channels=128,
    text_encoders=_TEXT_ENCODERS, clip_type="wan", clip_skip_default=-1, sample_size=104,
    sampling_settings={"shift": 8.0, "multiplier": 1000.0},
    diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_"),
    diffusers_lora_prefixes=("transformer.", "lora_transformer_", "lycoris_"),
    clip_loader_options=(("CLIPLoader", "wan"),), vae_prefix=COMFY_VAE_PREFIX,
)
WAN21_T2V = Family(name="WAN21_T2V", comfy_class="WAN21_T2V", model_class="WAN21", latent_format="Wan21",
                   **_COMMON)
FAMILIES = (WAN21_T2V,)
