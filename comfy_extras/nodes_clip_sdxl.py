"""SDXL text encoding nodes: separate prompts for SDXL's two text encoders, plus the size, crop and aesthetic
score inputs its UNet is conditioned on (read by `comfy.model_base.SDXL` / `SDXLRefiner.extra_conds`)."""

from __future__ import annotations

from nodes import MAX_RESOLUTION

_SIZE = {"default": 1024, "min": 0, "max": MAX_RESOLUTION}
_CROP = {"default": 0, "min": 0, "max": MAX_RESOLUTION}
_TEXT = {"multiline": True, "dynamicPrompts": True}


def _pad_chunks(tokens: dict[str, list], empty: dict[str, list]) -> None:
    """In place: give the "g" and "l" token lists the same number of 77-token chunks by appending empty chunks
    to the shorter one (the encoders' outputs are joined along the feature axis, chunk by chunk)."""
    while len(tokens["l"]) < len(tokens["g"]):
        tokens["l"] += empty["l"]
    while len(tokens["l"]) > len(tokens["g"]):
        tokens["g"] += empty["g"]


class CLIPTextEncodeSDXL:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "clip": ("CLIP", {"tooltip": "SDXL's text encoders (CLIP-L and OpenCLIP bigG)."}),
            "width": ("INT", {**_SIZE, "tooltip": "Original image width the model is told about."}),
            "height": ("INT", {**_SIZE, "tooltip": "Original image height the model is told about."}),
            "crop_w": ("INT", {**_CROP, "tooltip": "Left crop offset the model is told about."}),
            "crop_h": ("INT", {**_CROP, "tooltip": "Top crop offset the model is told about."}),
            "target_width": ("INT", {**_SIZE, "tooltip": "Width of the image to generate."}),
            "target_height": ("INT", {**_SIZE, "tooltip": "Height of the image to generate."}),
            "text_g": ("STRING", {**_TEXT, "tooltip": "Prompt for the bigG encoder."}),
            "text_l": ("STRING", {**_TEXT, "tooltip": "Prompt for the CLIP-L encoder."}),
        }}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    CATEGORY = "advanced/conditioning"
    DESCRIPTION = "Encodes two prompts, one per SDXL text encoder, with SDXL's size and crop conditioning."

    def encode(self, clip, width, height, crop_w, crop_h, target_width, target_height, text_g, text_l):
        tokens = clip.tokenize(text_g)
        if "l" not in tokens or "g" not in tokens:
            raise ValueError("CLIPTextEncodeSDXL needs an SDXL base text encoder (CLIP-L and bigG); this clip has "
                             f"{sorted(tokens)}. Use CLIPTextEncode for other models.")
        tokens["l"] = clip.tokenize(text_l)["l"]
        if len(tokens["l"]) != len(tokens["g"]):
            _pad_chunks(tokens, clip.tokenize(""))
        sizes = {"width": width, "height": height, "crop_w": crop_w, "crop_h": crop_h,
                 "target_width": target_width, "target_height": target_height}
        return (clip.encode_from_tokens_scheduled(tokens, add_dict=sizes),)


class CLIPTextEncodeSDXLRefiner:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "ascore": ("FLOAT", {"default": 6.0, "min": 0.0, "max": 1000.0, "step": 0.01,
                                 "tooltip": "Aesthetic score the refiner is conditioned on."}),
            "width": ("INT", {**_SIZE, "tooltip": "Original image width the model is told about."}),
            "height": ("INT", {**_SIZE, "tooltip": "Original image height the model is told about."}),
            "text": ("STRING", {**_TEXT, "tooltip": "The prompt."}),
            "clip": ("CLIP", {"tooltip": "The SDXL refiner's text encoder."}),
        }}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    CATEGORY = "advanced/conditioning"
    DESCRIPTION = "Encodes a prompt for the SDXL refiner with its aesthetic score and size conditioning."

    def encode(self, clip, ascore, width, height, text):
        tokens = clip.tokenize(text)
        extras = {"aesthetic_score": ascore, "width": width, "height": height}
        return (clip.encode_from_tokens_scheduled(tokens, add_dict=extras),)


NODE_CLASS_MAPPINGS = {
    "CLIPTextEncodeSDXLRefiner": CLIPTextEncodeSDXLRefiner,
    "CLIPTextEncodeSDXL": CLIPTextEncodeSDXL,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}
