"""Style model nodes: load a style model (FLUX.1 Redux) and append its image tokens to a conditioning."""

from __future__ import annotations

import folder_paths
from comfy.guidance import style_models


class StyleModelLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"style_model_name": (folder_paths.get_filename_list("style_models"),)}}

    RETURN_TYPES = ("STYLE_MODEL",)
    FUNCTION = "load_style_model"
    CATEGORY = "loaders"

    def load_style_model(self, style_model_name):
        path = folder_paths.get_full_path_or_raise("style_models", style_model_name)
        return (style_models.load_style_model(path),)


class StyleModelApply:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning": ("CONDITIONING",), "style_model": ("STYLE_MODEL",),
                             "clip_vision_output": ("CLIP_VISION_OUTPUT",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.001}),
                             "strength_type": (["multiply", "attn_bias"],)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "apply_stylemodel"
    CATEGORY = "conditioning/style_model"

    def apply_stylemodel(self, conditioning, style_model, clip_vision_output, strength, strength_type):
        return (style_models.apply_style_model(conditioning, style_model, clip_vision_output, strength,
                                               strength_type),)


NODE_CLASS_MAPPINGS = {"StyleModelLoader": StyleModelLoader, "StyleModelApply": StyleModelApply}
