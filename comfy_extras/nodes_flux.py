"""FLUX.1 conditioning nodes: the distilled guidance value Flux dev is conditioned on, and Flux's two-prompt text
encoding (CLIP-L for the pooled vector, T5-XXL for the token sequence)."""

from __future__ import annotations

import node_helpers

_TEXT = {"multiline": True, "dynamicPrompts": True}
_GUIDANCE = {"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1}


class CLIPTextEncodeFlux:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "clip": ("CLIP", {"tooltip": "Flux's text encoders (CLIP-L and T5-XXL)."}),
            "clip_l": ("STRING", {**_TEXT, "tooltip": "Prompt for CLIP-L (the pooled conditioning)."}),
            "t5xxl": ("STRING", {**_TEXT, "tooltip": "Prompt for T5-XXL (the token conditioning)."}),
            "guidance": ("FLOAT", {**_GUIDANCE, "tooltip": "The guidance strength Flux dev is conditioned on."}),
        }}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    CATEGORY = "advanced/conditioning/flux"
    DESCRIPTION = "Encodes one prompt per Flux text encoder and sets the guidance value on the conditioning."

    def encode(self, clip, clip_l, t5xxl, guidance):
        tokens = clip.tokenize(clip_l)
        if "l" not in tokens or "t5xxl" not in tokens:
            raise ValueError("CLIPTextEncodeFlux needs a Flux text encoder (CLIP-L and T5-XXL, e.g. from "
                             f"DualCLIPLoader with type flux); this clip has {sorted(tokens)}. "
                             "Use CLIPTextEncode for other models.")
        tokens["t5xxl"] = clip.tokenize(t5xxl)["t5xxl"]
        return (clip.encode_from_tokens_scheduled(tokens, add_dict={"guidance": guidance}),)


class FluxGuidance:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "conditioning": ("CONDITIONING",),
            "guidance": ("FLOAT", {**_GUIDANCE, "tooltip": "The guidance strength Flux dev is conditioned on."}),
        }}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "advanced/conditioning/flux"
    DESCRIPTION = "Sets the guidance value a guidance-distilled model (Flux dev) is conditioned on."

    def append(self, conditioning, guidance):
        return (node_helpers.conditioning_set_values(conditioning, {"guidance": guidance}),)


NODE_CLASS_MAPPINGS = {
    "CLIPTextEncodeFlux": CLIPTextEncodeFlux,
    "FluxGuidance": FluxGuidance,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}
