"""Loading models from files: checkpoints, diffusion models, text encoders, VAEs, LoRAs.

ComfyUI's public names (`load_checkpoint_guess_config`, `load_diffusion_model`, `load_clip`, `VAE`, `CLIP`,
`load_lora_for_models`) over Kiln's pieces: detection (`comfy.model_detection`), weight conversion into diffusers
and transformers models (`comfy.supported_models`, `comfy.clip_object`), the sampling interface
(`comfy.model_base`) and the patcher (`comfy.model_patcher`).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import torch

import comfy.latent_formats
import comfy.lora
import comfy.model_management
import comfy.utils
from comfy import model_detection, supported_models
from comfy.clip_object import CLIP, clip_from_checkpoint, clip_from_text_encoder_state_dicts
from comfy.model_base import SDXL, BaseModel, ModelType, SDXLRefiner
from comfy.model_patcher import ModelPatcher
from comfy.vae import VAE

__all__ = ["CLIP", "VAE", "load_checkpoint_guess_config", "load_clip", "load_diffusion_model",
           "load_lora_for_models", "load_state_dict_guess_config", "load_vae", "read_model_file"]

MODEL_CLASSES = {"SD15": BaseModel, "SD15_inpaint": BaseModel, "SD20": BaseModel, "SD21": BaseModel,
                 "SDXL": SDXL, "SDXLRefiner": SDXLRefiner}


def outside_inference_mode(function: Callable) -> Callable:
    """Build models as ordinary tensors even when called from the executor (which runs nodes under
    `torch.inference_mode()`): weights created as inference tensors made every UNet pass about twice as slow
    (1.9 vs 0.9 s per step, full-size SD1.5 at 64x64 on one CPU thread)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch.inference_mode(False):
            return function(*args, **kwargs)

    return wrapper


class ModelFileError(ValueError):
    """A model file that cannot be read or is not what the loader expects; the message names the file."""


def read_model_file(path: str) -> dict[str, torch.Tensor]:
    """The tensors of a .safetensors (or torch pickle, `weights_only`) file, with a clear error for bad files."""
    name = os.path.basename(path)
    try:
        return comfy.utils.load_torch_file(path, safe_load=True)
    except Exception as ex:  # safetensors and torch raise many kinds for truncated or foreign files
        raise ModelFileError(f"Could not read model file {name}: {type(ex).__name__}: {ex}. The file is "
                             "truncated, corrupt or not a model file.") from ex


def _diffusion_model(state_dict: dict[str, torch.Tensor], source_name: str,
                     family: model_detection.FamilyMatch | None = None) -> ModelPatcher:
    family = family or model_detection.model_family(state_dict, source_name=source_name)
    config = supported_models.family_config(family)
    device = comfy.model_management.get_torch_device()
    dtype = comfy.model_management.unet_dtype(device)
    unet = supported_models.load_unet(state_dict, family, source_name, dtype=dtype)
    latent_format = comfy.latent_formats.SDXL() if config.latent_format == "SDXL" else comfy.latent_formats.SD15()
    model_type = ModelType.V_PREDICTION if family.prediction_type == "v_prediction" else ModelType.EPS
    model = MODEL_CLASSES[family.name](unet, model_type=model_type, latent_format=latent_format,
                                       family=family.name)
    logging.info("model family %s, %s, dtype %s", family.name, model_type.name, dtype)
    return ModelPatcher(model, load_device=device, offload_device=comfy.model_management.unet_offload_device())


@outside_inference_mode
def load_state_dict_guess_config(state_dict: dict[str, torch.Tensor], source_name: str, output_vae: bool = True,
                                 output_clip: bool = True, embedding_directory: Any = None,
                                 output_model: bool = True) -> tuple[Any, Any, Any, None]:
    """(model, clip, vae, None) from a single-file checkpoint's tensors, detecting the family from its keys."""
    contents = model_detection.checkpoint_contents(state_dict, source_name=source_name)
    if contents.kind != "checkpoint":
        raise ModelFileError(f"{source_name} is a {contents.kind.replace('_', ' ')} file, not a full checkpoint: "
                             "load it with the matching loader node (UNETLoader, VAELoader or CLIPLoader).")
    family = model_detection.model_family(state_dict, source_name=source_name)
    model = _diffusion_model(state_dict, source_name, family) if output_model else None
    vae = None
    if output_vae and contents.vae_prefix is not None:
        config = supported_models.family_config(family)
        vae = VAE(supported_models.load_vae(state_dict, source_name, config.latent_scale_factor))
    clip = None
    if output_clip:
        clip = clip_from_checkpoint(state_dict, source=source_name, embedding_directory=embedding_directory)
        if clip is not None and supported_models.family_config(family).clip_skip_default != -1:
            clip.clip_layer(supported_models.family_config(family).clip_skip_default)
    return model, clip, vae, None


@outside_inference_mode
def load_checkpoint_guess_config(ckpt_path: str, output_vae: bool = True, output_clip: bool = True,
                                 output_clipvision: bool = False, embedding_directory: Any = None,
                                 output_model: bool = True, model_options: dict | None = None,
                                 te_model_options: dict | None = None) -> tuple[Any, Any, Any, None]:
    """(model, clip, vae, clipvision) from a checkpoint file, as CheckpointLoaderSimple returns them."""
    state_dict = read_model_file(ckpt_path)
    return load_state_dict_guess_config(state_dict, os.path.basename(ckpt_path), output_vae, output_clip,
                                        embedding_directory, output_model)


@outside_inference_mode
def load_diffusion_model(unet_path: str, model_options: dict | None = None, weight_dtype: str = "default"
                         ) -> ModelPatcher:
    """A diffusion model (UNet) alone, from a UNet-only file or a full checkpoint (UNETLoader)."""
    state_dict = read_model_file(unet_path)
    return _diffusion_model(state_dict, os.path.basename(unet_path))


@outside_inference_mode
def load_vae(vae_path: str) -> VAE:
    """A VAE from a VAE-only file (bare or `first_stage_model.`-prefixed keys) or a checkpoint (VAELoader)."""
    state_dict = read_model_file(vae_path)
    name = os.path.basename(vae_path)
    contents = model_detection.checkpoint_contents(state_dict, source_name=name)
    if contents.vae_prefix is None:
        raise ModelFileError(f"{name} holds no VAE weights (no encoder/decoder keys).")
    scale = 0.18215
    if contents.kind == "checkpoint":
        scale = supported_models.family_config(model_detection.model_family(state_dict, source_name=name)
                                               ).latent_scale_factor
    return VAE(supported_models.load_vae(state_dict, name, scale))


@outside_inference_mode
def load_clip(ckpt_paths: list[str], embedding_directory: Any = None, clip_type: str = "stable_diffusion",
              model_options: dict | None = None, device: str = "default") -> CLIP:
    """A CLIP from text-encoder files (CLIPLoader: one file; DualCLIPLoader: two, e.g. SDXL's l and g)."""
    state_dicts = [read_model_file(path) for path in ckpt_paths]
    sources = [os.path.basename(path) for path in ckpt_paths]
    return clip_from_text_encoder_state_dicts(state_dicts, clip_type=clip_type, sources=sources,
                                              embedding_directory=embedding_directory)


def load_lora_for_models(model: ModelPatcher | None, clip: CLIP | None, lora: dict[str, torch.Tensor],
                         strength_model: float, strength_clip: float, lora_name: str = "LoRA"
                         ) -> tuple[ModelPatcher | None, CLIP | None]:
    """Clones of `model` and `clip` with a kohya LoRA's weight deltas added (at the given strengths)."""
    used: set[str] = set()
    new_model = None
    if model is not None:
        key_map = comfy.lora.unet_key_map(model.model.diffusion_model)
        patches, used_unet = comfy.lora.load_lora(lora, key_map, comfy.lora.parameter_shapes(model.model))
        used |= used_unet
        new_model = model.clone()
        new_model.add_patches(patches, strength_model)
    new_clip = None
    if clip is not None:
        patches: dict[str, Any] = {}
        for kohya_prefix, parameter_prefix, encoder in _clip_lora_targets(clip):
            key_map = comfy.lora.text_encoder_key_map(encoder, kohya_prefix, parameter_prefix)
            clip_patches, used_clip = comfy.lora.load_lora(lora, key_map,
                                                           comfy.lora.parameter_shapes(clip.cond_stage_model))
            patches.update(clip_patches)
            used |= used_clip
        new_clip = clip.clone()
        new_clip.add_patches(patches, strength_clip)
    comfy.lora.check_lora_fits(lora_name, lora, used)
    return new_model, new_clip


def _clip_lora_targets(clip: CLIP) -> list[tuple[str, str, torch.nn.Module]]:
    """(kohya prefix, parameter prefix, transformers text model) for each text encoder of `clip`."""
    targets = []
    wrapper = clip.cond_stage_model
    names = [name for name in ("clip_l", "clip_h", "clip_g") if getattr(wrapper, name, None) is not None]
    for name in names:
        encoder = getattr(wrapper, name).transformer
        if len(names) == 1:
            kohya_prefixes = ["lora_te_", "lora_te1_"]
        else:  # SDXL: te1 is CLIP-L, te2 is CLIP-G
            kohya_prefixes = ["lora_te1_"] if name == "clip_l" else ["lora_te2_"]
        for kohya_prefix in kohya_prefixes:
            targets.append((kohya_prefix, f"{name}.transformer.", encoder))
    return targets
