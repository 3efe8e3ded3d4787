"""Model saving nodes: CheckpointSave writes MODEL + CLIP + VAE as one single-file checkpoint in the family's
original layout (LDM / SGM for SD1/SD2/SDXL, ComfyUI's for SD3 and FLUX.1), loadable by CheckpointLoaderSimple
here, in ComfyUI and in other tools."""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors.torch import save_file

import comfy.model_management
import folder_paths
from comfy import families
from comfy.cli_args import args
from comfy.file_writing import whole_file
from comfy.model_base import ModelType


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
    if not args.disable_metadata:
        metadata["prompt"] = json.dumps(prompt) if prompt is not None else ""
        for key, value in (extra_pnginfo or {}).items():
            metadata[key] = json.dumps(value)
    return metadata, extra_keys


def save_checkpoint(path: str, model: Any, clip: Any = None, vae: Any = None, metadata: dict[str, str] | None = None,
                    extra_keys: dict[str, torch.Tensor] | None = None) -> None:
    """Write a single-file safetensors checkpoint of `model` (a ModelPatcher: its weight patches, e.g. LoRAs,
    are baked in), `clip` and `vae` in the family's original single-file layout."""
    patchers = [model] + [p for p in (getattr(clip, "patcher", None), getattr(vae, "patcher", None)) if p is not None]
    # Loading with this clone's patches writes them into the weights, so the state dicts read next hold them.
    comfy.model_management.load_models_gpu(patchers, force_patch_weights=True)
    clip_state = clip.get_sd() if clip is not None else None
    autoencoder = vae.first_stage_model if vae is not None else None
    from comfy.families import export  # diffusers' tables: seconds of import, only needed when saving

    state = export.checkpoint_state_dict(model.model, clip_state, autoencoder)
    state.update(extra_keys or {})
    tensors = {key: value.detach().to("cpu").contiguous().clone() for key, value in state.items()}
    # Written beside the target, then renamed over it: a loaded model may be memory-mapped from the file
    # being replaced, and a crash must never leave half a checkpoint.
    with whole_file(path) as partial:
        save_file(tensors, partial, metadata=metadata)


class CheckpointSave:
    def __init__(self):
        self.output_dir = folder_paths.get_output_directory()

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": ("MODEL",),
                "clip": ("CLIP",),
                "vae": ("VAE",),
                "filename_prefix": ("STRING", {"default": "checkpoints/ComfyUI",
                                               "tooltip": "Path and name start of the file, under the output "
                                                          "folder."}),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "advanced/model_merging"
    DESCRIPTION = "Saves the model, text encoder and VAE as one .safetensors checkpoint in the output folder."

    def save(self, model, clip, vae, filename_prefix, prompt=None, extra_pnginfo=None):
        full_output_folder, filename, counter, _, _ = folder_paths.get_save_image_path(filename_prefix,
                                                                                        self.output_dir)
        metadata, extra_keys = checkpoint_metadata(model, f"{filename} {counter}", prompt, extra_pnginfo)
        path = os.path.join(full_output_folder, f"{filename}_{counter:05}_.safetensors")
        save_checkpoint(path, model, clip, vae, metadata=metadata, extra_keys=extra_keys)
        return {}


NODE_CLASS_MAPPINGS = {"CheckpointSave": CheckpointSave}

NODE_DISPLAY_NAME_MAPPINGS = {"CheckpointSave": "Save Checkpoint"}


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = 'Kiln does not implement this `nodes_model_merging` node yet'

CLIPAdd = unsupported_class(__name__, 'CLIPAdd', None, _REASON)
CLIPMergeSimple = unsupported_class(__name__, 'CLIPMergeSimple', None, _REASON)
CLIPSave = unsupported_class(__name__, 'CLIPSave', '', _REASON)
CLIPSubtract = unsupported_class(__name__, 'CLIPSubtract', None, _REASON)
ModelAdd = unsupported_class(__name__, 'ModelAdd', None, _REASON)
ModelMergeBlocks = unsupported_class(__name__, 'ModelMergeBlocks', None, _REASON)
ModelMergeSimple = unsupported_class(__name__, 'ModelMergeSimple', None, _REASON)
ModelSave = unsupported_class(__name__, 'ModelSave', '', _REASON)
ModelSubtract = unsupported_class(__name__, 'ModelSubtract', None, _REASON)
VAESave = unsupported_class(__name__, 'VAESave', '', _REASON)
