"""Stable Diffusion 1.x (ComfyUI's `SD15`), with the 9-channel inpainting and 8-channel instruct-pix2pix models as
variants.

A single-file checkpoint keeps the UNet and the VAE under the usual LDM prefixes (`base.py`) and
OpenAI's CLIP-L text model (transformers layout) under `cond_stage_model.transformer.`. Full size: context 768,
320 channels, convolutional `proj_in`; a reduced model is SD1 when it has cross-attention, no `label_emb` and a
convolutional `proj_in`. 4 input channels: SD1.5; 9: inpainting (mask and masked image concatenated); 8:
instruct-pix2pix (the image to edit concatenated). Kohya LoRAs name the text encoder `lora_te_` (or `lora_te1_`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comfy.families import unet
from comfy.families.base import Family, FamilyMatch, ModelDetectionError, TextEncoderPart, first_keys

_COMMON: dict[str, Any] = dict(
    comfy_class="SD15", architecture="unet", model_class="BaseModel", latent_format="SD15",
    latent_scale_factor=0.18215, prediction_type="eps", num_heads=8, num_head_channels=-1,
    text_encoders=(TextEncoderPart("clip_l", "cond_stage_model.transformer.", "hf_clip",
                                   ("lora_te_", "lora_te1_", "text_encoder.")),),
    clip_type="stable_diffusion", clip_skip_default=-1, sample_size=64,
    diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_"), diffusers_lora_prefixes=("unet.", "lora_unet_"),
    clip_loader_options=(("CLIPLoader", "stable_diffusion"),),
    exact_unet_match={"context_dim": 768, "model_channels": 320, "use_linear_in_transformer": False,
                      "adm_in_channels": None},
)
SD15 = Family(name="SD15", **_COMMON)
SD15_INPAINT = Family(name="SD15_inpaint", **_COMMON)
SD15_INSTRUCTPIX2PIX = Family(name="SD15_instructpix2pix", **{**_COMMON, "comfy_class": "SD15_instructpix2pix",
                                                               "model_class": "SD15_instructpix2pix"})
FAMILIES = (SD15, SD15_INPAINT, SD15_INSTRUCTPIX2PIX)
_BY_IN_CHANNELS = {4: SD15, 9: SD15_INPAINT, 8: SD15_INSTRUCTPIX2PIX}


def matches_structure(unet_config: Mapping[str, Any]) -> bool:
    """A reduced-size UNet stands for SD1 when it has cross-attention, no label embedding and conv `proj_in`."""
    return (unet_config["context_dim"] is not None and unet_config["adm_in_channels"] is None
            and not unet_config["use_linear_in_transformer"])


def match(unet_config: dict[str, Any], state_dict: Mapping[str, Any], prefix: str, exact: bool) -> FamilyMatch | None:
    """SD1.5 or its inpainting variant, when `unet_config` matches (exactly, or by structure)."""
    if not (unet.matches_exactly(SD15, unet_config) if exact else matches_structure(unet_config)):
        return None
    in_channels = unet_config["in_channels"]
    family = _BY_IN_CHANNELS.get(in_channels)
    if family is None:
        raise ModelDetectionError(
            f"Unsupported SD1.x variant with {in_channels} input channels (4: SD1.5, 9: inpainting, 8: "
            f"instruct-pix2pix). First keys seen: {first_keys(state_dict)}")
    return FamilyMatch(family.name, family.comfy_class, family.prediction_type, exact, prefix, unet_config)
