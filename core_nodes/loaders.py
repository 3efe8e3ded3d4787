"""Loader nodes: checkpoints, diffusion models, text encoders, VAEs and LoRAs from the model folders."""

from __future__ import annotations

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
    "CheckpointLoaderSimple": CheckpointLoaderSimple,
    "UNETLoader": UNETLoader,
    "CLIPLoader": CLIPLoader,
    "DualCLIPLoader": DualCLIPLoader,
    "TripleCLIPLoader": TripleCLIPLoader,
    "VAELoader": VAELoader,
    "LoraLoader": LoraLoader,
    "LoraLoaderModelOnly": LoraLoaderModelOnly,
}
