"""Loader nodes: checkpoints, diffusion models, text encoders, VAEs and LoRAs from the model folders; the
deprecated loaders of a checkpoint with its LDM config file and of a diffusers folder."""

from __future__ import annotations

import logging
import os

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
                                           {"tooltip": "The name of the checkpoint (model) to load."})}}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    OUTPUT_TOOLTIPS = ("The model used for denoising latents.", "The CLIP model used for encoding text prompts.",
                       "The VAE model used for encoding and decoding images to and from latent space.")
    FUNCTION = "load_checkpoint"
    CATEGORY = "loaders"
    DESCRIPTION = "Loads a diffusion model checkpoint, diffusion models are used to denoise latents."

    def load_checkpoint(self, ckpt_name):
        path = folder_paths.get_full_path_or_raise("checkpoints", ckpt_name)
        model, clip, vae, _ = _sd().load_checkpoint_guess_config(
            path, output_vae=True, output_clip=True, embedding_directory=folder_paths.get_folder_paths("embeddings"))
        return (model, clip, vae)


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
        config_path = folder_paths.get_full_path_or_raise("configs", config_name)
        ckpt_path = folder_paths.get_full_path_or_raise("checkpoints", ckpt_name)
        logging.warning("CheckpointLoader: loading a checkpoint with a config file is deprecated; use "
                        "CheckpointLoaderSimple.")
        model, clip, vae = _sd().load_checkpoint(config_path, ckpt_path, output_vae=True, output_clip=True,
                                                 embedding_directory=folder_paths.get_folder_paths("embeddings"))
        return (model, clip, vae)


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
        import comfy.diffusers_load

        return comfy.diffusers_load.load_diffusers(model_path, output_vae=output_vae, output_clip=output_clip,
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
    # ComfyUI's recipes (the interface); which of them Kiln builds: comfy/families (CLIP_TYPES).
    DESCRIPTION = ("[Recipes]\n\nstable_diffusion: clip-l\nstable_cascade: clip-g\nsd3: t5 xxl/ clip-g / clip-l\n"
                   "stable_audio: t5 base\nmochi: t5 xxl\ncosmos: old t5 xxl\nlumina2: gemma 2 2B\nwan: umt5 xxl\n"
                   " hidream: llama-3.1 (Recommend) or t5\nomnigen2: qwen vl 2.5 3B")

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
    DESCRIPTION = ("[Recipes]\n\nsdxl: clip-l, clip-g\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5\n"
                   "flux: clip-l, t5\nhidream: at least one of t5 or llama, recommended t5 and llama\n"
                   "hunyuan_image: qwen2.5vl 7b and byt5 small")

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
        return {"required": {
            "model": ("MODEL", {"tooltip": "The diffusion model the LoRA will be applied to."}),
            "clip": ("CLIP", {"tooltip": "The CLIP model the LoRA will be applied to."}),
            "lora_name": (folder_paths.get_filename_list("loras"), {"tooltip": "The name of the LoRA."}),
            "strength_model": ("FLOAT", {**strength, "tooltip": "How strongly to modify the diffusion model. This "
                                                                "value can be negative."}),
            "strength_clip": ("FLOAT", {**strength, "tooltip": "How strongly to modify the CLIP model. This value "
                                                               "can be negative."}),
        }}

    RETURN_TYPES = ("MODEL", "CLIP")
    # ComfyUI's; LoraLoaderModelOnly inherits both, as there.
    OUTPUT_TOOLTIPS = ("The modified diffusion model.", "The modified CLIP model.")
    FUNCTION = "load_lora"
    CATEGORY = "loaders"
    DESCRIPTION = ("LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are "
                   "denoised such as applying styles. Multiple LoRA nodes can be linked together.")

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
