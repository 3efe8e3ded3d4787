"""Loading a diffusers pipeline folder (ComfyUI's `comfy.diffusers_load`): its unet/, vae/ and text encoders as
Kiln's MODEL, VAE and CLIP (DiffusersLoader)."""

from __future__ import annotations

import os
from typing import Any

DIFFUSION_MODEL_FILES = ["diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.safetensors",
                         "diffusion_pytorch_model.fp16.bin", "diffusion_pytorch_model.bin"]
TEXT_ENCODER_FILES = ["model.fp16.safetensors", "model.safetensors", "pytorch_model.fp16.bin", "pytorch_model.bin"]


def first_file(path: str, filenames: list[str]) -> str | None:
    """The first of `filenames` that exists in folder `path`, as a full path (None if none does)."""
    for name in filenames:
        candidate = os.path.join(path, name)
        if os.path.exists(candidate):
            return candidate
    return None


def _unet_layout(state_dict: dict[str, Any]) -> dict[str, Any]:
    """The two facts of a diffusers UNet config the LDM renaming needs, read from its keys."""
    layers_per_block = 1 + max(int(key.split(".")[3]) for key in state_dict if key.startswith("down_blocks.0.resnets."))
    up_blocks = 1 + max(int(key.split(".")[1]) for key in state_dict if key.startswith("up_blocks."))
    up_block_types = ["CrossAttnUpBlock2D" if any(key.startswith(f"up_blocks.{index}.attentions.") for key in state_dict)
                      else "UpBlock2D" for index in range(up_blocks)]
    return {"layers_per_block": layers_per_block, "up_block_types": up_block_types}


def load_diffusers(model_path: str, output_vae: bool = True, output_clip: bool = True,
                   embedding_directory: Any = None) -> tuple[Any, Any, Any]:
    """(model, clip, vae) of a diffusers pipeline folder: unet/ and vae/ (renamed to the LDM layout and loaded
    as one checkpoint) and text_encoder/ (+ text_encoder_2/) loaded as CLIPLoader loads text encoders."""
    import comfy.sd
    from comfy.families.base import DIFFUSION_MODEL_PREFIX, VAE_PREFIX
    from comfy.families.unet import unet_diffusers_to_ldm
    from comfy.families.vae import vae_diffusers_to_ldm

    unet_path = first_file(os.path.join(model_path, "unet"), DIFFUSION_MODEL_FILES)
    vae_path = first_file(os.path.join(model_path, "vae"), DIFFUSION_MODEL_FILES)
    if unet_path is None:
        raise FileNotFoundError(f"DiffusersLoader: {model_path} has no unet/diffusion_pytorch_model file.")
    unet = comfy.sd.read_model_file(unet_path)
    checkpoint = {f"{DIFFUSION_MODEL_PREFIX}{key}": value
                  for key, value in unet_diffusers_to_ldm(unet, _unet_layout(unet)).items()}
    if vae_path is not None:
        vae = vae_diffusers_to_ldm(comfy.sd.read_model_file(vae_path))
        checkpoint.update({f"{VAE_PREFIX}{key}": value for key, value in vae.items()})
    model, _, vae_model, _ = comfy.sd.load_state_dict_guess_config(
        checkpoint, os.path.basename(os.path.normpath(model_path)), output_vae=output_vae, output_clip=False)
    clip = None
    if output_clip:
        encoders = [first_file(os.path.join(model_path, folder), TEXT_ENCODER_FILES)
                    for folder in ("text_encoder", "text_encoder_2")]
        clip = comfy.sd.load_clip([path for path in encoders if path is not None],
                                  embedding_directory=embedding_directory)
    return model, clip, vae_model
