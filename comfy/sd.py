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
import comfy.manual_cast
import comfy.model_base
import comfy.model_management
import comfy.utils
from comfy import families, model_detection, supported_models
from comfy.cli_args import args
from comfy.clip_object import CLIP, clip_from_checkpoint, clip_from_text_encoder_state_dicts
from comfy.model_base import ModelType
from comfy.model_patcher import ModelPatcher
from comfy.vae import VAE

__all__ = ["CLIP", "VAE", "load_checkpoint_guess_config", "load_clip", "load_diffusion_model",
           "load_lora_for_models", "load_state_dict_guess_config", "load_vae", "read_model_file"]

MODEL_TYPES = {"eps": ModelType.EPS, "v_prediction": ModelType.V_PREDICTION, "flow": ModelType.FLOW,
               "flux": ModelType.FLUX}


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
                     family: model_detection.FamilyMatch | None = None,
                     weight_dtype: torch.dtype | None = None) -> ModelPatcher:
    """The MODEL of a detected family. weight_dtype: store the Linear/Conv weights in this (fp8) dtype and cast
    them per layer to the usual compute dtype (UNETLoader's weight_dtype); None keeps them in it."""
    family = family or model_detection.model_family(state_dict, source_name=source_name)
    description = families.get(family)
    device = comfy.model_management.get_torch_device()
    dtype = _flow_dtype(family, device, comfy.model_management.unet_dtype(device))
    # With an fp8 weight dtype the weights load in the file's dtype and are rounded from there (the same values
    # as rounding their exact fp32 upcast), so the fp32 model never exists.
    network = supported_models.load_diffusion_model(state_dict, family, source_name,
                                                    dtype=dtype if weight_dtype is None else None)
    if weight_dtype is not None:
        comfy.manual_cast.store_weights_as(network, weight_dtype, other_dtype=dtype)
    latent_format = getattr(comfy.latent_formats, description.latent_format)()
    model_type = MODEL_TYPES[family.prediction_type]
    model_config = description if family.architecture != "unet" else None
    model_class = getattr(comfy.model_base, description.model_class)
    model = model_class(network, model_type=model_type, latent_format=latent_format, family=family.name,
                        model_config=model_config)
    if weight_dtype is not None:
        model.compute_dtype = dtype
    logging.info("model family %s, %s, dtype %s, weights %s", family.name, model_type.name, dtype,
                 weight_dtype or dtype)
    return ModelPatcher(model, load_device=device, offload_device=comfy.model_management.unet_offload_device())


def _flow_dtype(family: model_detection.FamilyMatch, device: torch.device, dtype: torch.dtype) -> torch.dtype:
    """FLUX.1's activations overflow fp16; like ComfyUI (bf16 first in Flux's supported dtypes) it runs in bf16
    on a GPU that has it, unless fp16 was asked for with --fp16-unet / --force-fp16."""
    if (family.architecture == "flux" and dtype == torch.float16 and device.type == "cuda"
            and torch.cuda.is_bf16_supported() and not (args.fp16_unet or args.force_fp16)):
        return torch.bfloat16
    return dtype


def _flow_checkpoint_clip(state_dict: dict[str, torch.Tensor], family: model_detection.FamilyMatch,
                          source_name: str, embedding_directory: Any) -> CLIP | None:
    """The CLIP of an all-in-one SD3 / Flux checkpoint: its text-encoder parts (at the prefixes its family gives them), built as
    DualCLIPLoader / TripleCLIPLoader build them from separate files (type "sd3" / "flux"); None without any."""
    parts, sources, kinds = [], [], []
    description = families.get(family)
    for slot in description.text_encoders:
        part = {key[len(slot.checkpoint_prefix):]: value for key, value in state_dict.items()
                if key.startswith(slot.checkpoint_prefix)}
        if part:
            parts.append(part)
            sources.append(f"{source_name} ({slot.kind})")
            kinds.append(slot.kind)
    if not parts:
        return None
    clip_type = description.clip_type
    try:
        return clip_from_text_encoder_state_dicts(parts, clip_type=clip_type, sources=sources,
                                                  embedding_directory=embedding_directory, kinds=kinds)
    except NotImplementedError as error:
        raise NotImplementedError(
            f"{source_name}: its text encoders ({', '.join(kinds)}) need the {clip_type!r} CLIP, which "
            f"comfy.clip_object does not build yet ({error}). The model and VAE load on their own (UNETLoader / "
            "VAELoader).") from error


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
    description = families.get(family)
    vae = None
    if output_vae and contents.vae_prefix is not None:
        vae = VAE(supported_models.load_vae(state_dict, source_name, description.latent_scale_factor))
    clip = None
    if output_clip and family.architecture != "unet":
        clip = _flow_checkpoint_clip(state_dict, family, source_name, embedding_directory)
    elif output_clip:
        clip = clip_from_checkpoint(state_dict, source=source_name, embedding_directory=embedding_directory)
        if clip is not None and description.clip_skip_default != -1:
            clip.clip_layer(description.clip_skip_default)
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
    """A diffusion model (UNet, FLUX.1 or SD3 transformer) alone, from a model-only file or a full checkpoint
    (UNETLoader). weight_dtype: UNETLoader's choice ("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2");
    ComfyUI's `model_options["dtype"]` (an fp8 torch dtype) does the same."""
    state_dict = read_model_file(unet_path)
    storage_dtype = comfy.manual_cast.weight_dtype_from_option(weight_dtype)
    if (model_options or {}).get("dtype") is not None:
        storage_dtype = model_options["dtype"]
    return _diffusion_model(state_dict, os.path.basename(unet_path), weight_dtype=storage_dtype)


@outside_inference_mode
def load_vae(vae_path: str) -> VAE:
    """A VAE from a VAE-only file (bare or with its family's checkpoint prefix) or a checkpoint (VAELoader)."""
    state_dict = read_model_file(vae_path)
    name = os.path.basename(vae_path)
    contents = model_detection.checkpoint_contents(state_dict, source_name=name)
    if contents.vae_prefix is None:
        raise ModelFileError(f"{name} holds no VAE weights (no encoder/decoder keys).")
    scale = 0.18215
    if contents.kind == "checkpoint":
        scale = families.get(model_detection.model_family(state_dict, source_name=name)).latent_scale_factor
    return VAE(supported_models.load_vae(state_dict, name, scale))  # a 16-channel (SD3 / Flux) VAE alike


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
    """Clones of `model` and `clip` with a LoRA's weight deltas added (at the given strengths). The layer names
    the LoRA may use come from the model's family (`comfy.lora`); one made for another family is a ValueError."""
    used: set[str] = set()
    new_model = None
    if model is not None:
        targets = comfy.lora.model_targets(model.model)
        patches, used_model = comfy.lora.load_lora(lora, targets, comfy.lora.parameter_shapes(model.model))
        used |= used_model
        new_model = model.clone()
        for parameter, patch in patches:
            new_model.add_patches({parameter: patch}, strength_model)
    new_clip = None
    if clip is not None:
        family = model.model.family if model is not None else None
        targets = comfy.lora.clip_targets(clip, family)
        patches, used_clip = comfy.lora.load_lora(lora, targets, comfy.lora.parameter_shapes(clip.cond_stage_model))
        used |= used_clip
        new_clip = clip.clone()
        for parameter, patch in patches:
            new_clip.add_patches({parameter: patch}, strength_clip)
    comfy.lora.check_lora_fits(lora_name, lora, used)
    return new_model, new_clip
