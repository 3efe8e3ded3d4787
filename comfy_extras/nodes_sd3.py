"""Stable Diffusion 3 nodes: its empty 16-channel latent and its three-prompt text encoding (CLIP-L, CLIP-G and
T5-XXL)."""

from __future__ import annotations

import torch

import comfy.model_management
from comfy_extras.nodes_clip_sdxl import _pad_chunks
from nodes import MAX_RESOLUTION

_TEXT = {"multiline": True, "dynamicPrompts": True}


class EmptySD3LatentImage:
    """A batch of all-zero 16-channel latents (SD3, Flux): {"samples": [B, 16, height/8, width/8]}."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "width": ("INT", {"default": 1024, "min": 16, "max": MAX_RESOLUTION, "step": 16,
                              "tooltip": "Width of the latent images in pixels."}),
            "height": ("INT", {"default": 1024, "min": 16, "max": MAX_RESOLUTION, "step": 16,
                               "tooltip": "Height of the latent images in pixels."}),
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096,
                                   "tooltip": "Number of latent images in the batch."}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "generate"
    CATEGORY = "latent/sd3"
    DESCRIPTION = "Creates a batch of empty 16-channel latent images (SD3, Flux) for a sampler to denoise."

    def generate(self, width: int, height: int, batch_size: int = 1) -> tuple[dict]:
        # Zeros in VAE space: the sampler's latent_image becomes -shift * scale once the model's format is applied.
        latent = torch.zeros([batch_size, 16, height // 8, width // 8],
                             device=comfy.model_management.intermediate_device())
        return ({"samples": latent},)


class CLIPTextEncodeSD3:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "clip": ("CLIP", {"tooltip": "SD3's text encoders (CLIP-L, CLIP-G and optionally T5-XXL)."}),
            "clip_l": ("STRING", {**_TEXT, "tooltip": "Prompt for CLIP-L."}),
            "clip_g": ("STRING", {**_TEXT, "tooltip": "Prompt for CLIP-G."}),
            "t5xxl": ("STRING", {**_TEXT, "tooltip": "Prompt for T5-XXL."}),
            "empty_padding": (["none", "empty_prompt"], {"tooltip": "none: an empty prompt gives no tokens to "
                                                                    "its encoder; empty_prompt: it is encoded."}),
        }}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    CATEGORY = "advanced/conditioning"
    DESCRIPTION = "Encodes one prompt per SD3 text encoder."

    def encode(self, clip, clip_l, clip_g, t5xxl, empty_padding):
        no_padding = empty_padding == "none"
        tokens = clip.tokenize(clip_g)
        missing = {"l", "g", "t5xxl"} - set(tokens)
        if missing:
            raise ValueError("CLIPTextEncodeSD3 needs an SD3 text encoder (CLIP-L, CLIP-G and the T5-XXL tokenizer, "
                             f"e.g. from TripleCLIPLoader); this clip has {sorted(tokens)}, without "
                             f"{sorted(missing)}. Use CLIPTextEncode for other models.")
        if no_padding and len(clip_g) == 0:
            tokens["g"] = []
        tokens["l"] = [] if no_padding and len(clip_l) == 0 else clip.tokenize(clip_l)["l"]
        tokens["t5xxl"] = [] if no_padding and len(t5xxl) == 0 else clip.tokenize(t5xxl)["t5xxl"]
        if len(tokens["l"]) != len(tokens["g"]):
            _pad_chunks(tokens, clip.tokenize(""))
        return (clip.encode_from_tokens_scheduled(tokens),)


NODE_CLASS_MAPPINGS = {
    "EmptySD3LatentImage": EmptySD3LatentImage,
    "CLIPTextEncodeSD3": CLIPTextEncodeSD3,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}
