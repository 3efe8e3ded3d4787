"""Stable Diffusion 2.x (ComfyUI's `SD20`): 2.0/2.1 base (eps) and 2.0-v/2.1-v (v-prediction, Kiln's `SD21`).

A single-file checkpoint keeps the UNet and the VAE under the usual LDM prefixes (`base.py`) and
OpenCLIP ViT-H (OpenCLIP layout) under `cond_stage_model.model.`; the penultimate CLIP layer is the default.
Full size: context 1024, 320 channels, linear `proj_in`; a reduced model is SD2 when it has cross-attention, no
`label_emb` and a linear `proj_in`. SD2 files carry no v-prediction marker: as in ComfyUI, a 4-channel SD2 UNet
is v-prediction when the population std of `output_blocks.11.1.transformer_blocks.0.norm1.bias` exceeds 0.09.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from comfy.families import unet
from comfy.families.base import Family, FamilyMatch, TextEncoderPart

_COMMON: dict[str, Any] = dict(
    comfy_class="SD20", architecture="unet", model_class="BaseModel", latent_format="SD15",
    latent_scale_factor=0.18215, num_heads=-1, num_head_channels=64,
    text_encoders=(TextEncoderPart("clip_h", "cond_stage_model.model.", "open_clip",
                                   ("lora_te_", "lora_te1_", "text_encoder.")),),
    clip_type="stable_diffusion", clip_skip_default=-2, diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_"),
    diffusers_lora_prefixes=("unet.", "lora_unet_"), clip_loader_options=(("CLIPLoader", "stable_diffusion"),),
    exact_unet_match={"context_dim": 1024, "model_channels": 320, "use_linear_in_transformer": True,
                      "adm_in_channels": None},
)
SD20 = Family(name="SD20", prediction_type="eps", sample_size=64, **_COMMON)
SD21 = Family(name="SD21", prediction_type="v_prediction", sample_size=96, upcast_attention=True, **_COMMON)
FAMILIES = (SD20, SD21)

V_PREDICTION_STD_KEY = "output_blocks.11.1.transformer_blocks.0.norm1.bias"
V_PREDICTION_STD_THRESHOLD = 0.09


def matches_structure(unet_config: Mapping[str, Any]) -> bool:
    """A reduced-size UNet stands for SD2 when it has cross-attention, no label embedding and linear `proj_in`."""
    return (unet_config["context_dim"] is not None and unet_config["adm_in_channels"] is None
            and unet_config["use_linear_in_transformer"])


def is_v_prediction(state_dict: Mapping[str, Any], prefix: str, in_channels: int) -> bool:
    """ComfyUI's test for SD2-v (see the module docstring); eps when the key is absent or on the meta device."""
    if in_channels != 4:
        return False
    bias = state_dict.get(prefix + V_PREDICTION_STD_KEY)
    if bias is None or bias.device.type == "meta":
        return False
    return bool(torch.std(bias.float(), unbiased=False) > V_PREDICTION_STD_THRESHOLD)


def match(unet_config: dict[str, Any], state_dict: Mapping[str, Any], prefix: str, exact: bool) -> FamilyMatch | None:
    """SD2 eps or v-prediction, when `unet_config` matches (exactly, or by structure)."""
    if not (unet.matches_exactly(SD20, unet_config) if exact else matches_structure(unet_config)):
        return None
    family = SD21 if is_v_prediction(state_dict, prefix, unet_config["in_channels"]) else SD20
    return FamilyMatch(family.name, family.comfy_class, family.prediction_type, exact, prefix, unet_config)
