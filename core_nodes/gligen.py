"""GLIGEN nodes: load a GLIGEN model from the gligen folder and ground a phrase in a box of the picture."""

from __future__ import annotations

import folder_paths
from core_nodes import MAX_RESOLUTION


class GLIGENLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"gligen_name": (folder_paths.get_filename_list("gligen"),)}}

    RETURN_TYPES = ("GLIGEN",)
    FUNCTION = "load_gligen"
    CATEGORY = "loaders"

    def load_gligen(self, gligen_name):
        import comfy.sd

        return (comfy.sd.load_gligen(folder_paths.get_full_path_or_raise("gligen", gligen_name)),)


class GLIGENTextBoxApply:
    @classmethod
    def INPUT_TYPES(cls):
        size = {"min": 8, "max": MAX_RESOLUTION, "step": 8}
        place = {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}
        return {"required": {"conditioning_to": ("CONDITIONING",), "clip": ("CLIP",),
                             "gligen_textbox_model": ("GLIGEN",),
                             "text": ("STRING", {"multiline": True, "dynamicPrompts": True}),
                             "width": ("INT", {"default": 64, **size}), "height": ("INT", {"default": 64, **size}),
                             "x": ("INT", place), "y": ("INT", place)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning/gligen"

    def append(self, conditioning_to, clip, gligen_textbox_model, text, width, height, x, y):
        """Each conditioning gets the phrase's pooled (unprojected) CLIP embedding with the box, in latent
        pixels, added to the boxes it already has."""
        _, pooled = clip.encode_from_tokens(clip.tokenize(text), return_pooled="unprojected")
        box = (pooled, height // 8, width // 8, y // 8, x // 8)
        out = []
        for cond, options in conditioning_to:
            earlier = options["gligen"][2] if "gligen" in options else []
            out.append([cond, {**options, "gligen": ("position", gligen_textbox_model, earlier + [box])}])
        return (out,)


NODE_CLASS_MAPPINGS = {"GLIGENLoader": GLIGENLoader, "GLIGENTextBoxApply": GLIGENTextBoxApply}
