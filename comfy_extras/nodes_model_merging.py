"""Model merging and saving nodes.

Merges are weight patches, as in ComfyUI: the merged model is a clone of the first whose every diffusion-model
weight (or text-encoder weight) gets the second model's weight, with that model's own patches, as a patch
(`ModelPatcher.get_key_patches` / `add_patches`). ModelMergeSimple at ratio r gives `r * first + (1 - r) *
second`; ModelMergeBlocks and the per-architecture mergers (nodes_model_merging_model_specific) take the ratio of
the longest of their block prefixes that starts the weight's ComfyUI name (`BaseModel.comfy_weight_names`, from the
family's key table), the first ratio given where none does. Nothing is computed until the merged model is used or
saved.

CheckpointSave writes MODEL + CLIP + VAE as one single-file checkpoint in the family's original layout (LDM / SGM
for SD1/SD2/SDXL, ComfyUI's for SD3 and FLUX.1), loadable by CheckpointLoaderSimple here, in ComfyUI and in other
tools; ModelSave writes the diffusion model alone in the same layout, CLIPSave each text encoder to its own file,
VAESave the VAE.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import torch

import comfy.model_management
import comfy.utils
import folder_paths
from comfy import families
from comfy.cli_args import args
from comfy.file_writing import whole_file
from comfy.model_base import ModelType

DIFFUSION_MODEL_PREFIX = "diffusion_model."
# Text-encoder entries that are not weights: CLIP merges leave them as the first CLIP has them.
CLIP_NON_WEIGHTS = (".position_ids", ".logit_scale")
RATIO = ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01})
MULTIPLIER = ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.01})


def add_key_patches(target: Any, key_patches: Mapping[str, Any],
                       strengths: Callable[[str], tuple[float, float]]) -> None:
    """Add each of `key_patches` (another model's `get_key_patches()`) to `target` (a ModelPatcher or CLIP) with
    `strengths(key)` = (strength of the other weight, strength of target's own weight)."""
    by_strengths: dict[tuple[float, float], dict[str, Any]] = {}
    for key, patch in key_patches.items():
        by_strengths.setdefault(strengths(key), {})[key] = patch
    for (strength_patch, strength_model), patches in by_strengths.items():
        target.add_patches(patches, strength_patch, strength_model)


def merge_models(model1: Any, model2: Any, strengths: Callable[[str], tuple[float, float]]) -> Any:
    """A clone of `model1` with `model2`'s diffusion-model weights patched in at `strengths(key)`."""
    merged = model1.clone()
    add_key_patches(merged, model2.get_key_patches(DIFFUSION_MODEL_PREFIX), strengths)
    return merged


def merge_clips(clip1: Any, clip2: Any, strengths: Callable[[str], tuple[float, float]]) -> Any:
    """A clone of `clip1` with `clip2`'s text-encoder weights (not its position ids and logit scales) patched in
    at `strengths(key)`."""
    merged = clip1.clone()
    key_patches = {key: patch for key, patch in clip2.get_key_patches().items() if not key.endswith(CLIP_NON_WEIGHTS)}
    add_key_patches(merged, key_patches, strengths)
    return merged


def block_ratio(name: str, ratios: Mapping[str, float], default: float) -> float:
    """The ratio of the longest prefix in `ratios` that starts `name` (a weight's ComfyUI name without
    `diffusion_model.`), else `default`."""
    best, ratio = 0, default
    for prefix, value in ratios.items():
        if len(prefix) > best and name.startswith(prefix):
            best, ratio = len(prefix), value
    return ratio


class ModelMergeSimple:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model1": ("MODEL",), "model2": ("MODEL",), "ratio": RATIO}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "merge"
    CATEGORY = "advanced/model_merging"

    def merge(self, model1, model2, ratio):
        return (merge_models(model1, model2, lambda key: (1.0 - ratio, ratio)),)


class ModelSubtract:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model1": ("MODEL",), "model2": ("MODEL",), "multiplier": MULTIPLIER}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "merge"
    CATEGORY = "advanced/model_merging"

    def merge(self, model1, model2, multiplier):
        return (merge_models(model1, model2, lambda key: (-multiplier, multiplier)),)


class ModelAdd:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model1": ("MODEL",), "model2": ("MODEL",)}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "merge"
    CATEGORY = "advanced/model_merging"

    def merge(self, model1, model2):
        return (merge_models(model1, model2, lambda key: (1.0, 1.0)),)


class CLIPMergeSimple:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip1": ("CLIP",), "clip2": ("CLIP",), "ratio": RATIO}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "merge"
    CATEGORY = "advanced/model_merging"

    def merge(self, clip1, clip2, ratio):
        return (merge_clips(clip1, clip2, lambda key: (1.0 - ratio, ratio)),)


class CLIPSubtract:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip1": ("CLIP",), "clip2": ("CLIP",), "multiplier": MULTIPLIER}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "merge"
    CATEGORY = "advanced/model_merging"

    def merge(self, clip1, clip2, multiplier):
        return (merge_clips(clip1, clip2, lambda key: (-multiplier, multiplier)),)


class CLIPAdd:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip1": ("CLIP",), "clip2": ("CLIP",)}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "merge"
    CATEGORY = "advanced/model_merging"

    def merge(self, clip1, clip2):
        return (merge_clips(clip1, clip2, lambda key: (1.0, 1.0)),)


class ModelMergeBlocks:
    """Merge with one ratio per block: every input after the two models is a ratio named by a prefix of ComfyUI's
    weight names (here the UNet's `input`, `middle` and `out`; subclasses name finer blocks)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model1": ("MODEL",), "model2": ("MODEL",), "input": RATIO, "middle": RATIO,
                             "out": RATIO}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "merge"
    CATEGORY = "advanced/model_merging"

    def merge(self, model1, model2, **ratios):
        default = next(iter(ratios.values()))
        names = model2.model.comfy_weight_names() if hasattr(model2.model, "comfy_weight_names") else {}

        def strengths(key: str) -> tuple[float, float]:
            name = names.get(key, key).removeprefix(DIFFUSION_MODEL_PREFIX)
            ratio = block_ratio(name, ratios, default)
            return 1.0 - ratio, ratio

        return (merge_models(model1, model2, strengths),)


def _user_metadata(prompt: Any, extra_pnginfo: dict | None) -> dict[str, str]:
    """The prompt and workflow as saved files carry them, unless `--disable-metadata`."""
    if args.disable_metadata:
        return {}
    metadata = {"prompt": json.dumps(prompt) if prompt is not None else ""}
    for key, value in (extra_pnginfo or {}).items():
        metadata[key] = json.dumps(value)
    return metadata


def _save_tensors(path: str, state: Mapping[str, torch.Tensor], metadata: dict[str, str]) -> None:
    # Written beside the target, then renamed over it: a loaded model may be memory-mapped from the file
    # being replaced, and a crash must never leave half a file.
    with whole_file(path) as partial:
        comfy.utils.write_safetensors(partial, state, metadata)


def checkpoint_metadata(model_patcher: Any, title: str, prompt: Any = None,
                        extra_pnginfo: dict | None = None) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(safetensors metadata, extra marker tensors) for a saved checkpoint: the model spec for SDXL families,
    the prediction type (plus the `v_pred` / `ztsnr` keys loaders read), and the prompt and workflow unless
    `--disable-metadata`."""
    metadata: dict[str, str] = {}
    extra_keys: dict[str, torch.Tensor] = {}
    architecture = families.get(model_patcher.model.family).modelspec_architecture
    if architecture is not None:
        metadata["modelspec.architecture"] = architecture
        metadata["modelspec.sai_model_spec"] = "1.0.0"
        metadata["modelspec.implementation"] = "sgm"
        metadata["modelspec.title"] = title
    if model_patcher.model.model_type == ModelType.EPS:
        metadata["modelspec.predict_key"] = "epsilon"
    elif model_patcher.model.model_type == ModelType.V_PREDICTION:
        metadata["modelspec.predict_key"] = "v"
        extra_keys["v_pred"] = torch.tensor([])
        if getattr(model_patcher.get_model_object("model_sampling"), "zsnr", False):
            extra_keys["ztsnr"] = torch.tensor([])
    metadata.update(_user_metadata(prompt, extra_pnginfo))
    return metadata, extra_keys


def save_checkpoint(path: str, model: Any, clip: Any = None, vae: Any = None, metadata: dict[str, str] | None = None,
                    extra_keys: dict[str, torch.Tensor] | None = None) -> None:
    """Write a single-file safetensors checkpoint of `model` (a ModelPatcher: its weight patches, e.g. LoRAs,
    are baked in), `clip` and `vae` in the family's original single-file layout."""
    patchers = [model] + [p for p in (getattr(clip, "patcher", None), getattr(vae, "patcher", None)) if p is not None]
    # Loading with this clone's patches writes them into the weights, so the state dicts read next hold them.
    comfy.model_management.load_models_gpu(patchers, force_patch_weights=True)
    clip_state = clip.saved_state_dict() if clip is not None else None
    autoencoder = vae.first_stage_model if vae is not None else None
    from comfy.families import export  # diffusers' tables: seconds of import, only needed when saving

    state = export.checkpoint_state_dict(model.model, clip_state, autoencoder)
    state.update(extra_keys or {})
    _save_tensors(path, state, metadata or {})


def _save_path(output_dir: str, filename_prefix: str) -> tuple[str, str, int]:
    """(path of the next `<prefix>_NNNNN_.safetensors` under `output_dir`, file name part, counter)."""
    folder, filename, counter, _, _ = folder_paths.get_save_image_path(filename_prefix, output_dir)
    return os.path.join(folder, f"{filename}_{counter:05}_.safetensors"), filename, counter


class CheckpointSave:
    def __init__(self):
        self.output_dir = folder_paths.get_output_directory()

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "clip": ("CLIP",), "vae": ("VAE",),
                             "filename_prefix": ("STRING", {"default": "checkpoints/ComfyUI"})},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "advanced/model_merging"

    def save(self, model, clip, vae, filename_prefix, prompt=None, extra_pnginfo=None):
        path, filename, counter = _save_path(self.output_dir, filename_prefix)
        metadata, extra_keys = checkpoint_metadata(model, f"{filename} {counter}", prompt, extra_pnginfo)
        save_checkpoint(path, model, clip, vae, metadata=metadata, extra_keys=extra_keys)
        return {}


class ModelSave:
    """The diffusion model alone, as a checkpoint of the family's layout (`model.diffusion_model.*` for the
    UNet families)."""

    def __init__(self):
        self.output_dir = folder_paths.get_output_directory()

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",),
                             "filename_prefix": ("STRING", {"default": "diffusion_models/ComfyUI"})},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "advanced/model_merging"

    def save(self, model, filename_prefix, prompt=None, extra_pnginfo=None):
        path, filename, counter = _save_path(self.output_dir, filename_prefix)
        metadata, extra_keys = checkpoint_metadata(model, f"{filename} {counter}", prompt, extra_pnginfo)
        save_checkpoint(path, model, metadata=metadata, extra_keys=extra_keys)
        return {}


class CLIPSave:
    """Each text encoder of the CLIP to its own file, `<prefix>_<encoder>_NNNNN_.safetensors` (e.g. `clip_l`),
    in the layout ComfyUI's CLIPLoader reads (transformers' names without the encoder's prefix)."""

    def __init__(self):
        self.output_dir = folder_paths.get_output_directory()

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip": ("CLIP",), "filename_prefix": ("STRING", {"default": "clip/ComfyUI"})},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "advanced/model_merging"

    def save(self, clip, filename_prefix, prompt=None, extra_pnginfo=None):
        metadata = {"format": "pt", **_user_metadata(prompt, extra_pnginfo)} if not args.disable_metadata else {}
        comfy.model_management.load_models_gpu([clip.load_model()], force_patch_weights=True)
        for encoder, state in clip.saved_text_encoders().items():
            prefix = f"{filename_prefix}_{encoder}" if encoder else filename_prefix
            path, _, _ = _save_path(self.output_dir, prefix)
            _save_tensors(path, state, metadata)
        return {}


class VAESave:
    def __init__(self):
        self.output_dir = folder_paths.get_output_directory()

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"vae": ("VAE",), "filename_prefix": ("STRING", {"default": "vae/ComfyUI_vae"})},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "advanced/model_merging"

    def save(self, vae, filename_prefix, prompt=None, extra_pnginfo=None):
        path, _, _ = _save_path(self.output_dir, filename_prefix)
        _save_tensors(path, vae.get_sd(), _user_metadata(prompt, extra_pnginfo))
        return {}


NODE_CLASS_MAPPINGS = {
    "ModelMergeSimple": ModelMergeSimple,
    "ModelMergeBlocks": ModelMergeBlocks,
    "ModelMergeSubtract": ModelSubtract,
    "ModelMergeAdd": ModelAdd,
    "CheckpointSave": CheckpointSave,
    "CLIPMergeSimple": CLIPMergeSimple,
    "CLIPMergeSubtract": CLIPSubtract,
    "CLIPMergeAdd": CLIPAdd,
    "CLIPSave": CLIPSave,
    "VAESave": VAESave,
    "ModelSave": ModelSave,
}

NODE_DISPLAY_NAME_MAPPINGS = {"CheckpointSave": "Save Checkpoint"}
