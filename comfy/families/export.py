"""Loaded models back to a family's single-file checkpoint layout (CheckpointSave).

Kiln runs diffusers and transformers modules; checkpoints name the same weights as the original code did. Each
part goes back through the table its loading came through: the diffusion model through its architecture's
`export` (the SD UNet's LDM names, FLUX.1's and SD3's traced key tables), the text encoders through their file
layout (`comfy.families.text_encoders.from_transformers`), the VAE through diffusers' VAE table; each under the
prefix the family description gives it.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy import families
from comfy.families import text_encoders, unet, vae
from comfy.families.base import without_prefix
from comfy.families.key_tables import export_state_dict

SCALED_FP8_MARKER = "scaled_fp8"  # the key ComfyUI's `scaled_fp8` files carry (an empty tensor of the fp8 dtype)
SCALE_WEIGHT_SUFFIX = ".scale_weight"


def diffusion_model_state_dict(model: Any) -> dict[str, torch.Tensor]:
    """A Kiln `BaseModel`'s network in its family's original names, bare (no prefix); tensors are shared where
    the layout allows."""
    family = families.get(model.family)
    network = model.diffusion_model
    if family.architecture == "unet":
        return unet.unet_diffusers_to_ldm(network.state_dict(), dict(network.config))
    table = families.architecture_module(family.architecture).key_table(network)
    return export_state_dict(table, network.state_dict())


def text_encoders_state_dict(family_name: str, clip_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The text encoders of a CLIP's state dict (`<kind>.transformer.*` keys, as `CLIP.get_sd()` gives them)
    under `family_name`'s checkpoint prefixes and layouts. Raises ValueError when a text encoder the family's
    checkpoints need is missing (SD3's are all optional)."""
    family = families.get(family_name)
    out: dict[str, torch.Tensor] = {}
    for part in family.text_encoders:
        encoder_state = without_prefix(clip_state, families.state_dict_prefix(part.kind))
        if not encoder_state:
            if part.optional:
                continue
            raise ValueError(f"the CLIP has no {part.kind} text encoder, which a {family.name} checkpoint needs "
                             f"(it has: {sorted({key.split('.')[0] for key in clip_state})})")
        converted = text_encoders.from_transformers(part.layout, encoder_state)
        # ComfyUI's text encoders hold no position ids, so the checkpoints it saves have none
        converted.pop(text_encoders.POSITION_IDS, None)
        if part.layout in ("t5", "umt5") and any(key.endswith(SCALE_WEIGHT_SUFFIX) for key in converted):
            fp8 = next(value.dtype for key, value in converted.items() if value.dtype.itemsize == 1
                       and value.is_floating_point())
            converted[SCALED_FP8_MARKER] = torch.empty(0, dtype=fp8)
        out.update({part.checkpoint_prefix + key: value for key, value in converted.items()})
    return out


def checkpoint_state_dict(model: Any, clip_state: dict[str, torch.Tensor] | None,
                          autoencoder: torch.nn.Module | None) -> dict[str, torch.Tensor]:
    """A full single-file checkpoint: `model` (a Kiln BaseModel with `.family`), the CLIP's state dict and the
    VAE's `AutoencoderKL`, each in its original layout under its family's prefix. Tensors are shared, not
    copied, where the layouts allow."""
    families.import_network_libraries()
    family = families.get(model.family)
    state = {family.diffusion_model_prefix + key: value for key, value in diffusion_model_state_dict(model).items()}
    if clip_state is not None:
        state.update(text_encoders_state_dict(family.name, clip_state))
    if autoencoder is not None:
        state.update({family.vae_prefix + key: value
                      for key, value in vae.vae_diffusers_to_ldm(autoencoder.state_dict()).items()})
    return state
