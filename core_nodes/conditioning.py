"""Text encoding and conditioning nodes: CLIPTextEncode, CLIPSetLastLayer and the Conditioning* family.

CONDITIONING is ComfyUI's list of `[cond_tensor [1, tokens, width], options]`; options carry the pooled output
and any area, mask, strength or timestep range. The nodes copy what they change and share the tensors.
"""

from __future__ import annotations

import logging

import torch

import node_helpers
from core_nodes import MAX_RESOLUTION


class CLIPTextEncode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "text": ("STRING", {"multiline": True, "dynamicPrompts": True, "tooltip": "The text to be encoded."}),
            "clip": ("CLIP", {"tooltip": "The CLIP model used for encoding the text."}),
        }}

    RETURN_TYPES = ("CONDITIONING",)
    OUTPUT_TOOLTIPS = ("A conditioning containing the embedded text used to guide the diffusion model.",)
    FUNCTION = "encode"
    CATEGORY = "conditioning"
    DESCRIPTION = ("Encodes a text prompt using a CLIP model into an embedding that can be used to guide the "
                   "diffusion model towards generating specific images.")

    def encode(self, clip, text):
        if clip is None:
            raise RuntimeError("ERROR: clip input is invalid: None\n\nIf the clip is from a checkpoint loader node "
                               "your checkpoint does not contain a valid clip or text encoder model.")
        return (clip.encode_from_tokens_scheduled(clip.tokenize(text)),)


class CLIPSetLastLayer:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"clip": ("CLIP",),
                             "stop_at_clip_layer": ("INT", {"default": -1, "min": -24, "max": -1, "step": 1})}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "set_last_layer"
    CATEGORY = "conditioning"

    def set_last_layer(self, clip, stop_at_clip_layer):
        clip = clip.clone()
        clip.clip_layer(stop_at_clip_layer)
        return (clip,)


class ConditioningCombine:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning_1": ("CONDITIONING",), "conditioning_2": ("CONDITIONING",)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "combine"
    CATEGORY = "conditioning"

    def combine(self, conditioning_1, conditioning_2):
        return (conditioning_1 + conditioning_2,)


def _fit_tokens(tensor: torch.Tensor, length: int) -> torch.Tensor:
    """Cut or zero-pad `tensor` [1, tokens, width] to `length` tokens."""
    tensor = tensor[:, :length]
    if tensor.shape[1] < length:
        padding = torch.zeros((tensor.shape[0], length - tensor.shape[1], tensor.shape[2]), dtype=tensor.dtype)
        tensor = torch.cat([tensor, padding], dim=1)
    return tensor


class ConditioningAverage:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning_to": ("CONDITIONING",), "conditioning_from": ("CONDITIONING",),
                             "conditioning_to_strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0,
                                                                    "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "addWeighted"
    CATEGORY = "conditioning"

    def addWeighted(self, conditioning_to, conditioning_from, conditioning_to_strength):  # noqa: N802 - ComfyUI's name
        if len(conditioning_from) > 1:
            logging.warning("ConditioningAverage: conditioning_from has more than one entry; only the first is used.")
        source, source_options = conditioning_from[0]
        source_pooled = source_options.get("pooled_output")
        strength = conditioning_to_strength
        output = []
        for tensor, options in conditioning_to:
            mixed = tensor * strength + _fit_tokens(source, tensor.shape[1]) * (1.0 - strength)
            options = options.copy()
            pooled = options.get("pooled_output")
            if pooled is not None and source_pooled is not None:
                options["pooled_output"] = pooled * strength + source_pooled * (1.0 - strength)
            elif source_pooled is not None:
                options["pooled_output"] = source_pooled
            output.append([mixed, options])
        return (output,)


class ConditioningConcat:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning_to": ("CONDITIONING",), "conditioning_from": ("CONDITIONING",)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "concat"
    CATEGORY = "conditioning"

    def concat(self, conditioning_to, conditioning_from):
        if len(conditioning_from) > 1:
            logging.warning("ConditioningConcat: conditioning_from has more than one entry; only the first is used.")
        source = conditioning_from[0][0]
        return ([[torch.cat((tensor, source), 1), options.copy()] for tensor, options in conditioning_to],)


class ConditioningSetArea:
    @classmethod
    def INPUT_TYPES(cls):
        size = {"default": 64, "min": 64, "max": MAX_RESOLUTION, "step": 8}
        position = {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}
        return {"required": {"conditioning": ("CONDITIONING",), "width": ("INT", size), "height": ("INT", size),
                             "x": ("INT", position), "y": ("INT", position),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, width, height, x, y, strength):
        return (node_helpers.conditioning_set_values(conditioning, {
            "area": (height // 8, width // 8, y // 8, x // 8), "strength": strength, "set_area_to_bounds": False}),)


class ConditioningSetAreaPercentage:
    @classmethod
    def INPUT_TYPES(cls):
        fraction = {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}
        offset = {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.01}
        return {"required": {"conditioning": ("CONDITIONING",), "width": ("FLOAT", fraction),
                             "height": ("FLOAT", fraction), "x": ("FLOAT", offset), "y": ("FLOAT", offset),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, width, height, x, y, strength):
        return (node_helpers.conditioning_set_values(conditioning, {
            "area": ("percentage", height, width, y, x), "strength": strength, "set_area_to_bounds": False}),)


class ConditioningSetAreaStrength:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, strength):
        return (node_helpers.conditioning_set_values(conditioning, {"strength": strength}),)


class ConditioningSetMask:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning": ("CONDITIONING",), "mask": ("MASK",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}),
                             "set_cond_area": (["default", "mask bounds"],)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, mask, set_cond_area, strength):
        if mask.ndim < 3:
            mask = mask.unsqueeze(0)
        return (node_helpers.conditioning_set_values(conditioning, {
            "mask": mask, "set_area_to_bounds": set_cond_area != "default", "mask_strength": strength}),)


class ConditioningSetTimestepRange:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "start": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001}),
                             "end": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.001})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "set_range"
    CATEGORY = "advanced/conditioning"

    def set_range(self, conditioning, start, end):
        return (node_helpers.conditioning_set_values(conditioning, {"start_percent": start, "end_percent": end}),)


class ConditioningZeroOut:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning": ("CONDITIONING",)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "zero_out"
    CATEGORY = "advanced/conditioning"

    def zero_out(self, conditioning):
        output = []
        for tensor, options in conditioning:
            options = options.copy()
            if options.get("pooled_output") is not None:
                options["pooled_output"] = torch.zeros_like(options["pooled_output"])
            output.append([torch.zeros_like(tensor), options])
        return (output,)


NODE_CLASS_MAPPINGS = {
    "CLIPTextEncode": CLIPTextEncode,
    "CLIPSetLastLayer": CLIPSetLastLayer,
    "ConditioningCombine": ConditioningCombine,
    "ConditioningAverage": ConditioningAverage,
    "ConditioningConcat": ConditioningConcat,
    "ConditioningSetArea": ConditioningSetArea,
    "ConditioningSetAreaPercentage": ConditioningSetAreaPercentage,
    "ConditioningSetAreaStrength": ConditioningSetAreaStrength,
    "ConditioningSetMask": ConditioningSetMask,
    "ConditioningSetTimestepRange": ConditioningSetTimestepRange,
    "ConditioningZeroOut": ConditioningZeroOut,
}
