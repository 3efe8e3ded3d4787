"""Loader nodes: checkpoints, diffusion models, text encoders, VAEs and LoRAs from the model folders; the
deprecated loaders of a checkpoint with its LDM config file and of a diffusers folder."""

from __future__ import annotations

import logging
import os
from typing import Any

import comfy.utils
import folder_paths
from comfy import families


def _sd():
    """comfy.sd, imported on first use: it pulls in diffusers and transformers (seconds of start-up)."""
    import comfy.sd

    return comfy.sd

# ComfyUI's option lists (the interface); the families say which of them Kiln builds (comfy/families).
CLIP_TYPES = families.clip_loader_types("CLIPLoader")
DUAL_CLIP_TYPES = families.clip_loader_types("DualCLIPLoader")


class CheckpointLoaderSimple:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"ckpt_name": (folder_paths.get_filename_list("checkpoints"),
                                           {"tooltip": "The checkpoint (model) to load."})}}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    OUTPUT_TOOLTIPS = ("The model used for denoising latents.", "The CLIP model used for encoding text prompts.",
                       "The VAE model used for encoding and decoding images to and from latent space.")
    FUNCTION = "load_checkpoint"
    CATEGORY = "loaders"
    DESCRIPTION = "Loads a diffusion model checkpoint: the denoising model, its text encoder and its VAE."

    def load_checkpoint(self, ckpt_name):
        path = folder_paths.get_full_path_or_raise("checkpoints", ckpt_name)
        model, clip, vae, _ = _sd().load_checkpoint_guess_config(
            path, output_vae=True, output_clip=True, embedding_directory=folder_paths.get_folder_paths("embeddings"))
        return (model, clip, vae)


def _config_overrides(model: Any, clip: Any, config: dict) -> Any:
    """What ComfyUI still reads from an LDM config: `parameterization: v` (v-prediction sampling, as an object
    patch on a clone) and the text encoder's `layer_idx` (CLIP skip). The model, possibly patched, is returned;
    `clip` is changed in place."""
    params = (config or {}).get("model", {}).get("params", {})
    if params.get("parameterization") == "v":
        import comfy.model_sampling

        sampling_class = comfy.model_sampling.model_sampling_class(comfy.model_sampling.V_PREDICTION)
        patched = model.clone()
        patched.add_object_patch("model_sampling", sampling_class(getattr(model.model, "model_config", None)))
        model = patched
    layer_idx = (params.get("cond_stage_config") or {}).get("params", {}).get("layer_idx")
    if layer_idx is not None and clip is not None:
        clip.clip_layer(layer_idx)
    return model


class CheckpointLoader:
    """A checkpoint with an LDM config (models/configs): loaded by detection like CheckpointLoaderSimple; the
    config only adds v-prediction and CLIP skip, as in ComfyUI 0.3.64."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"config_name": (folder_paths.get_filename_list("configs"),),
                             "ckpt_name": (folder_paths.get_filename_list("checkpoints"),)}}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    FUNCTION = "load_checkpoint"
    CATEGORY = "advanced/loaders"
    DEPRECATED = True

    def load_checkpoint(self, config_name, ckpt_name):
        import yaml

        config_path = folder_paths.get_full_path_or_raise("configs", config_name)
        ckpt_path = folder_paths.get_full_path_or_raise("checkpoints", ckpt_name)
        logging.warning("CheckpointLoader: loading a checkpoint with a config file is deprecated; use "
                        "CheckpointLoaderSimple.")
        with open(config_path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        if not isinstance(config, dict) or not isinstance(config.get("model", {}).get("params"), dict):
            raise ValueError(f"CheckpointLoader: {config_name} is not an LDM config (no model.params section).")
        model, clip, vae, _ = _sd().load_checkpoint_guess_config(
            ckpt_path, output_vae=True, output_clip=True, embedding_directory=folder_paths.get_folder_paths("embeddings"))
        return (_config_overrides(model, clip, config), clip, vae)


_DIFFUSION_MODEL_FILES = ["diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.safetensors",
                          "diffusion_pytorch_model.fp16.bin", "diffusion_pytorch_model.bin"]
_TEXT_ENCODER_FILES = ["model.fp16.safetensors", "model.safetensors", "pytorch_model.fp16.bin", "pytorch_model.bin"]


def _first_file(folder: str, names: list[str]) -> str | None:
    for name in names:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
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
    from comfy.families.base import DIFFUSION_MODEL_PREFIX, VAE_PREFIX
    from comfy.families.unet import unet_diffusers_to_ldm
    from comfy.families.vae import vae_diffusers_to_ldm

    unet_path = _first_file(os.path.join(model_path, "unet"), _DIFFUSION_MODEL_FILES)
    vae_path = _first_file(os.path.join(model_path, "vae"), _DIFFUSION_MODEL_FILES)
    if unet_path is None:
        raise FileNotFoundError(f"DiffusersLoader: {model_path} has no unet/diffusion_pytorch_model file.")
    unet = _sd().read_model_file(unet_path)
    checkpoint = {f"{DIFFUSION_MODEL_PREFIX}{key}": value
                  for key, value in unet_diffusers_to_ldm(unet, _unet_layout(unet)).items()}
    if vae_path is not None:
        vae = vae_diffusers_to_ldm(_sd().read_model_file(vae_path))
        checkpoint.update({f"{VAE_PREFIX}{key}": value for key, value in vae.items()})
    model, _, vae_model, _ = _sd().load_state_dict_guess_config(
        checkpoint, os.path.basename(os.path.normpath(model_path)), output_vae=output_vae, output_clip=False)
    clip = None
    if output_clip:
        encoders = [_first_file(os.path.join(model_path, folder), _TEXT_ENCODER_FILES)
                    for folder in ("text_encoder", "text_encoder_2")]
        clip = _sd().load_clip([path for path in encoders if path is not None],
                               embedding_directory=embedding_directory)
    return model, clip, vae_model


class DiffusersLoader:
    """A diffusers pipeline folder (one with model_index.json) from models/diffusers."""

    @classmethod
    def INPUT_TYPES(cls):
        paths = []
        for search_path in folder_paths.get_folder_paths("diffusers"):
            if os.path.exists(search_path):
                for root, _, files in os.walk(search_path, followlinks=True):
                    if "model_index.json" in files:
                        paths.append(os.path.relpath(root, start=search_path))
        return {"required": {"model_path": (paths,)}}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    FUNCTION = "load_checkpoint"
    CATEGORY = "advanced/loaders/deprecated"

    def load_checkpoint(self, model_path, output_vae=True, output_clip=True):
        for search_path in folder_paths.get_folder_paths("diffusers"):
            candidate = os.path.join(search_path, model_path)
            if os.path.exists(candidate):
                model_path = candidate
                break
        return load_diffusers(model_path, output_vae=output_vae, output_clip=output_clip,
                              embedding_directory=folder_paths.get_folder_paths("embeddings"))


class UNETLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"unet_name": (folder_paths.get_filename_list("diffusion_models"),),
                             "weight_dtype": (["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"],)}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "load_unet"
    CATEGORY = "advanced/loaders"

    def load_unet(self, unet_name, weight_dtype="default"):
        path = folder_paths.get_full_path_or_raise("diffusion_models", unet_name)
        return (_sd().load_diffusion_model(path, weight_dtype=weight_dtype),)


class CLIPLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip_name": (folder_paths.get_filename_list("text_encoders"),),
                             "type": (CLIP_TYPES,)},
                "optional": {"device": (["default", "cpu"], {"advanced": True})}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "load_clip"
    CATEGORY = "advanced/loaders"
    DESCRIPTION = ("Loads one text encoder as a CLIP. stable_diffusion: CLIP-L (SD1), CLIP-H (SD2) or CLIP-G; "
                   "sd3: CLIP-L, CLIP-G or T5-XXL alone.")

    def load_clip(self, clip_name, type="stable_diffusion", device="default"):  # noqa: A002 - ComfyUI's input name
        path = folder_paths.get_full_path_or_raise("text_encoders", clip_name)
        return (_sd().load_clip([path], embedding_directory=folder_paths.get_folder_paths("embeddings"),
                                   clip_type=type, device=device),)


class DualCLIPLoader:
    @classmethod
    def INPUT_TYPES(cls):
        names = folder_paths.get_filename_list("text_encoders")
        return {"required": {"clip_name1": (names,), "clip_name2": (names,), "type": (DUAL_CLIP_TYPES,)},
                "optional": {"device": (["default", "cpu"], {"advanced": True})}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "load_clip"
    CATEGORY = "advanced/loaders"
    DESCRIPTION = ("Loads two text encoders as one CLIP. sdxl: CLIP-L + CLIP-G; sd3: two of CLIP-L, CLIP-G and "
                   "T5-XXL; flux: CLIP-L + T5-XXL.")

    def load_clip(self, clip_name1, clip_name2, type, device="default"):  # noqa: A002
        paths = [folder_paths.get_full_path_or_raise("text_encoders", name) for name in (clip_name1, clip_name2)]
        return (_sd().load_clip(paths, embedding_directory=folder_paths.get_folder_paths("embeddings"),
                                   clip_type=type, device=device),)


class TripleCLIPLoader:
    @classmethod
    def INPUT_TYPES(cls):
        names = folder_paths.get_filename_list("text_encoders")
        return {"required": {"clip_name1": (names,), "clip_name2": (names,), "clip_name3": (names,)}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "load_clip"
    CATEGORY = "advanced/loaders"
    DESCRIPTION = "Loads SD3's three text encoders (CLIP-L, CLIP-G and T5-XXL, in any order) as one CLIP."

    def load_clip(self, clip_name1, clip_name2, clip_name3):
        paths = [folder_paths.get_full_path_or_raise("text_encoders", name)
                 for name in (clip_name1, clip_name2, clip_name3)]
        return (_sd().load_clip(paths, embedding_directory=folder_paths.get_folder_paths("embeddings"),
                                clip_type="sd3"),)


class VAELoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"vae_name": (folder_paths.get_filename_list("vae"),)}}

    RETURN_TYPES = ("VAE",)
    FUNCTION = "load_vae"
    CATEGORY = "loaders"

    def load_vae(self, vae_name):
        path = folder_paths.get_full_path_or_raise("vae", vae_name)
        return (_sd().load_vae(path),)


class LoraLoader:
    @classmethod
    def INPUT_TYPES(cls):
        strength = {"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01}
        return {"required": {"model": ("MODEL",), "clip": ("CLIP",),
                             "lora_name": (folder_paths.get_filename_list("loras"),),
                             "strength_model": ("FLOAT", strength), "strength_clip": ("FLOAT", strength)}}

    RETURN_TYPES = ("MODEL", "CLIP")
    FUNCTION = "load_lora"
    CATEGORY = "loaders"

    def __init__(self):
        self.loaded_lora: tuple[str, dict] | None = None

    def _lora(self, lora_name: str) -> dict:
        path = folder_paths.get_full_path_or_raise("loras", lora_name)
        if self.loaded_lora is None or self.loaded_lora[0] != path:
            self.loaded_lora = (path, comfy.utils.load_torch_file(path, safe_load=True))
        return self.loaded_lora[1]

    def load_lora(self, model, clip, lora_name, strength_model, strength_clip):
        if strength_model == 0 and strength_clip == 0:
            return (model, clip)
        return _sd().load_lora_for_models(model, clip, self._lora(lora_name), strength_model, strength_clip,
                                          lora_name)


class LoraLoaderModelOnly(LoraLoader):
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "lora_name": (folder_paths.get_filename_list("loras"),),
                             "strength_model": ("FLOAT", {"default": 1.0, "min": -100.0, "max": 100.0,
                                                          "step": 0.01})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "load_lora_model_only"

    def load_lora_model_only(self, model, lora_name, strength_model):
        if strength_model == 0:
            return (model,)
        return (_sd().load_lora_for_models(model, None, self._lora(lora_name), strength_model, 0, lora_name)[0],)


NODE_CLASS_MAPPINGS = {
    "CheckpointLoader": CheckpointLoader,
    "DiffusersLoader": DiffusersLoader,
    "CheckpointLoaderSimple": CheckpointLoaderSimple,
    "UNETLoader": UNETLoader,
    "CLIPLoader": CLIPLoader,
    "DualCLIPLoader": DualCLIPLoader,
    "TripleCLIPLoader": TripleCLIPLoader,
    "VAELoader": VAELoader,
    "LoraLoader": LoraLoader,
    "LoraLoaderModelOnly": LoraLoaderModelOnly,
}
