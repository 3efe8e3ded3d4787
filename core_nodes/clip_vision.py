"""CLIP vision nodes: load an image encoder from the clip_vision folder and encode pictures with it."""

from __future__ import annotations

import comfy.clip_vision
import folder_paths


class CLIPVisionLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip_name": (folder_paths.get_filename_list("clip_vision"),)}}

    RETURN_TYPES = ("CLIP_VISION",)
    FUNCTION = "load_clip"
    CATEGORY = "loaders"

    def load_clip(self, clip_name):
        path = folder_paths.get_full_path_or_raise("clip_vision", clip_name)
        return (comfy.clip_vision.load(path),)


class CLIPVisionEncode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip_vision": ("CLIP_VISION",), "image": ("IMAGE",),
                             "crop": (["center", "none"],)}}

    RETURN_TYPES = ("CLIP_VISION_OUTPUT",)
    FUNCTION = "encode"
    CATEGORY = "conditioning"

    def encode(self, clip_vision, image, crop):
        return (clip_vision.encode_image(image, crop=crop == "center"),)


NODE_CLASS_MAPPINGS = {"CLIPVisionLoader": CLIPVisionLoader, "CLIPVisionEncode": CLIPVisionEncode}
