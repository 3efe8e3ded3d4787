"""Loading models from files: checkpoints, diffusion models, text encoders, VAEs, LoRAs.

ComfyUI's public names (`load_checkpoint_guess_config`, `load_diffusion_model`, `load_clip`, `VAE`, `CLIP`,
`load_lora_for_models`) over Kiln's pieces: detection (`comfy.model_detection`), weight conversion into diffusers
and transformers models (`comfy.supported_models`, `comfy.clip_object`), the sampling interface
(`comfy.model_base`) and the patcher (`comfy.model_patcher`).
"""

from __future__ import annotations

import enum
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
from comfy import families, model_detection, supported_models, video_vae
from comfy.cli_args import args
from comfy.clip_object import CLIP, clip_from_checkpoint, clip_from_text_encoder_state_dicts
from comfy.families import wan_vae
from comfy.model_base import ModelType
from comfy.model_patcher import ModelPatcher
from comfy.vae import VAE

__all__ = ["CLIP", "CLIPType", "VAE", "load_checkpoint", "load_checkpoint_guess_config", "load_clip",
           "load_diffusion_model", "load_diffusion_model_state_dict", "load_lora_for_models",
           "load_state_dict_guess_config", "load_text_encoder_state_dicts", "load_vae", "read_model_file"]

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
                     weight_dtype: torch.dtype | None = None, operations: Any = None) -> ModelPatcher:
    """The MODEL of a detected family. weight_dtype: store the Linear/Conv weights in this (fp8) dtype and cast
    them per layer to the usual compute dtype (UNETLoader's weight_dtype); None keeps them in it. operations: a
    `comfy.ops` set (a pack's `model_options["custom_operations"]`) whose layers hold the weights as the file
    gives them and compute in the usual dtype."""
    family = family or model_detection.model_family(state_dict, source_name=source_name)
    description = families.get(family)
    device = comfy.model_management.get_torch_device()
    dtype = _flow_dtype(family, device, comfy.model_management.unet_dtype(device))
    # With an fp8 weight dtype the weights load in the file's dtype and are rounded from there (the same values
    # as rounding their exact fp32 upcast), so the fp32 model never exists.
    network = supported_models.load_diffusion_model(state_dict, family, source_name,
                                                    dtype=dtype if weight_dtype is None and operations is None
                                                    else None, operations=operations)
    if weight_dtype is not None:
        comfy.manual_cast.store_weights_as(network, weight_dtype, other_dtype=dtype)
    latent_format = getattr(comfy.latent_formats, description.latent_format)()
    model_type = MODEL_TYPES[family.prediction_type]
    model_config = description if family.architecture != "unet" else None
    model_class = getattr(comfy.model_base, description.model_class)
    model = model_class(network, model_type=model_type, latent_format=latent_format, family=family.name,
                        model_config=model_config)
    if weight_dtype is not None or operations is not None:
        model.compute_dtype = dtype
    logging.info("model family %s, %s, dtype %s, weights %s", family.name, model_type.name, dtype,
                 weight_dtype or dtype)
    return ModelPatcher(model, load_device=device, offload_device=comfy.model_management.unet_offload_device())


def _flow_dtype(family: model_detection.FamilyMatch, device: torch.device, dtype: torch.dtype) -> torch.dtype:
    """FLUX.1's (and Chroma's) activations overflow fp16; like ComfyUI (bf16 first in their supported dtypes) it runs in bf16
    on a GPU that has it, unless fp16 was asked for with --fp16-unet / --force-fp16."""
    if (family.architecture in ("flux", "chroma") and dtype == torch.float16 and device.type == "cuda"
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
    options = dict(model_options or {})
    if options.get("dtype") is None:
        options["dtype"] = comfy.manual_cast.weight_dtype_from_option(weight_dtype)
    return load_diffusion_model_state_dict(state_dict, options, source_name=os.path.basename(unet_path))


@outside_inference_mode
def load_diffusion_model_state_dict(sd: dict[str, torch.Tensor], model_options: dict | None = None,
                                    source_name: str = "diffusion model") -> ModelPatcher:
    """A diffusion model from its tensors (a model-only state dict, or a checkpoint's), the family detected from
    them. model_options: `dtype` stores the weights in that (fp8) dtype, cast per layer; `custom_operations` (a
    `comfy.ops` set such as ComfyUI-GGUF's `GGMLOps`) builds the network's layers from its classes, which take
    the tensors as they are (a pack's own tensor types included) and compute in the usual dtype."""
    options = model_options or {}
    return _diffusion_model(sd, source_name, weight_dtype=options.get("dtype"),
                            operations=options.get("custom_operations"))


@outside_inference_mode
def load_vae(vae_path: str) -> VAE:
    """A VAE from a VAE-only file (bare or with its family's checkpoint prefix) or a checkpoint (VAELoader)."""
    state_dict = read_model_file(vae_path)
    name = os.path.basename(vae_path)
    if wan_vae.is_wan_vae(state_dict):
        return video_vae.load(state_dict, name)
    if families.vae_prefix_of(state_dict) is None:
        first = ", ".join(repr(key) for key in list(state_dict)[:5])
        raise ModelFileError(f"{name} holds no VAE weights: an image VAE has 'decoder.conv_in.weight', a Wan video "
                             f"VAE {wan_vae.MARKER!r}. First keys: {first}. Pick a VAE file in VAELoader.")
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
    return clip_from_text_encoder_state_dicts(state_dicts, clip_type=clip_type_name(clip_type), sources=sources,
                                              embedding_directory=embedding_directory)


class CLIPType(enum.Enum):
    """ComfyUI's text-encoder kinds (same values); Kiln's loaders take their lowercase names ("flux", "sd3")."""

    STABLE_DIFFUSION = 1
    STABLE_CASCADE = 2
    SD3 = 3
    STABLE_AUDIO = 4
    HUNYUAN_DIT = 5
    FLUX = 6
    MOCHI = 7
    LTXV = 8
    HUNYUAN_VIDEO = 9
    PIXART = 10
    COSMOS = 11
    LUMINA2 = 12
    WAN = 13
    HIDREAM = 14
    CHROMA = 15
    ACE = 16
    OMNIGEN2 = 17
    QWEN_IMAGE = 18
    HUNYUAN_IMAGE = 19


def clip_type_name(clip_type: str | CLIPType) -> str:
    """The CLIP loader option for a `CLIPType` (its name in lowercase) or an option given as a string."""
    return clip_type.name.lower() if isinstance(clip_type, CLIPType) else clip_type


@outside_inference_mode
def load_text_encoder_state_dicts(state_dicts: list[dict[str, torch.Tensor]] | None = None,
                                  embedding_directory: Any = None,
                                  clip_type: str | CLIPType = CLIPType.STABLE_DIFFUSION,
                                  model_options: dict | None = None) -> CLIP:
    """A CLIP from text-encoder state dicts (what `load_clip` reads from files), detected from their keys.

    `model_options["custom_operations"]` is not applied: Kiln's text encoders are transformers modules built by
    its own loader. Plain tensors load as usual (a warning says so); a pack's own tensor types (quantised GGUF
    text encoders) are refused, since Kiln could only misread them."""
    state_dicts = list(state_dicts or [])
    if (model_options or {}).get("custom_operations") is not None:
        foreign = {type(tensor).__name__ for sd in state_dicts for tensor in sd.values()
                   if type(tensor) not in (torch.Tensor, torch.nn.Parameter)}
        if foreign:
            raise NotImplementedError(
                f"load_text_encoder_state_dicts: custom operations for text encoders whose weights are "
                f"{', '.join(sorted(foreign))} tensors are not supported by Kiln (its CLIP / T5 encoders are "
                "transformers modules); use .safetensors text encoders.")
        logging.warning("load_text_encoder_state_dicts: the custom operations are not applied to the text encoders "
                        "(their weights are plain tensors and load as usual).")
    sources = [f"text encoder {index + 1}" for index in range(len(state_dicts))]
    return clip_from_text_encoder_state_dicts(state_dicts, clip_type=clip_type_name(clip_type), sources=sources,
                                              embedding_directory=embedding_directory)


@outside_inference_mode
def load_checkpoint(config_path: str | None = None, ckpt_path: str | None = None, output_vae: bool = True,
                    output_clip: bool = True, embedding_directory: Any = None, state_dict: Any = None,
                    config: dict | None = None) -> tuple[Any, Any, Any]:
    """(model, clip, vae) of a checkpoint with its LDM config (a yaml file, or `config` already read): detected
    like `load_checkpoint_guess_config`; the config adds only what ComfyUI 0.3.64 still reads from it,
    `parameterization: v` (v-prediction sampling, as an object patch on a clone) and the text encoder's
    `layer_idx` (CLIP skip)."""
    if config is None:
        import yaml

        with open(config_path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    if not isinstance(config, dict) or not isinstance(config.get("model", {}).get("params"), dict):
        raise ValueError(f"{config_path or 'config'} is not an LDM config (no model.params section).")
    model, clip, vae, _ = load_checkpoint_guess_config(ckpt_path, output_vae=output_vae, output_clip=output_clip,
                                                       embedding_directory=embedding_directory)
    params = config["model"]["params"]
    if params.get("parameterization") == "v":
        import comfy.model_sampling

        sampling_class = comfy.model_sampling.model_sampling_class(comfy.model_sampling.V_PREDICTION)
        patched = model.clone()
        patched.add_object_patch("model_sampling", sampling_class(getattr(model.model, "model_config", None)))
        model = patched
    layer_idx = (params.get("cond_stage_config") or {}).get("params", {}).get("layer_idx")
    if layer_idx is not None and clip is not None:
        clip.clip_layer(layer_idx)
    return model, clip, vae


def load_lora_for_models(model: ModelPatcher | None, clip: CLIP | None, lora: dict[str, torch.Tensor],
                         strength_model: float, strength_clip: float, lora_name: str = "LoRA"
                         ) -> tuple[ModelPatcher | None, CLIP | None]:
    """Clones of `model` and `clip` with a LoRA's weight deltas added (at the given strengths). The layer names
    the LoRA may use come from the model's family (`comfy.lora`); one made for another family is a ValueError."""
    used: set[str] = set()
    new_model = None
    if model is not None:
        targets = comfy.lora.model_targets(model.model)
        patches, used_model = comfy.lora.lora_patches(lora, targets, comfy.lora.parameter_shapes(model.model))
        used |= used_model
        new_model = model.clone()
        for parameter, patch in patches:
            new_model.add_patches({parameter: patch}, strength_model)
    new_clip = None
    if clip is not None:
        family = model.model.family if model is not None else None
        targets = comfy.lora.clip_targets(clip, family)
        patches, used_clip = comfy.lora.lora_patches(lora, targets, comfy.lora.parameter_shapes(clip.cond_stage_model))
        used |= used_clip
        new_clip = clip.clone()
        for parameter, patch in patches:
            new_clip.add_patches({parameter: patch}, strength_clip)
    comfy.lora.check_lora_fits(lora_name, lora, used)
    return new_model, new_clip


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
def load_gligen(ckpt_path: str) -> ModelPatcher:
    """A GLIGEN file as a ModelPatcher around its `comfy.gligen.Gligen` (what GLIGENLoader gives)."""
    from comfy.guidance.gligen import load_gligen as build_gligen

    gligen = build_gligen(comfy.utils.load_torch_file(ckpt_path, safe_load=True))
    return ModelPatcher(gligen, load_device=comfy.model_management.get_torch_device(),
                        offload_device=comfy.model_management.unet_offload_device())


from comfy.guidance.style_models import StyleModel, load_style_model  # noqa: E402,F401  ComfyUI's names
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln has none of these loaders and detectors yet"

TEModel = unsupported_class(__name__, 'TEModel', None, _REASON)
detect_te_model = unsupported_function(__name__, 'detect_te_model', 'sd', _REASON)
llama_detect = unsupported_function(__name__, 'llama_detect', 'clip_data', _REASON)


def load_unet(unet_path: str, dtype: torch.dtype | None = None) -> ModelPatcher:
    """ComfyUI's older name of `load_diffusion_model`, taking the weight dtype directly."""
    return load_diffusion_model(unet_path, model_options={"dtype": dtype} if dtype is not None else {})


def load_unet_state_dict(sd: dict[str, torch.Tensor], dtype: torch.dtype | None = None) -> ModelPatcher:
    """ComfyUI's older name of `load_diffusion_model_state_dict`, taking the weight dtype directly."""
    return load_diffusion_model_state_dict(sd, model_options={"dtype": dtype} if dtype is not None else {})


model_detection_error_hint = unsupported_function(__name__, 'model_detection_error_hint', 'path, state_dict', _REASON)
save_checkpoint = unsupported_function(__name__, 'save_checkpoint', 'output_path, model, clip=, vae=, clip_vision=, metadata=, extra_keys=', _REASON)
t5xxl_detect = unsupported_function(__name__, 't5xxl_detect', 'clip_data', _REASON)
