"""Core latent transforms ComfyUI keeps in nodes.py: rotate, flip, crop and blend latents.

LATENT is {"samples": [B,C,H,W], ...}; other keys are kept. Pixel sizes are 8 per latent pixel.
"""

from __future__ import annotations

import torch

import comfy.utils
from core_nodes import MAX_RESOLUTION

_ROTATIONS = ["none", "90 degrees", "180 degrees", "270 degrees"]


class LatentRotate:
    """Rotate latents clockwise by a multiple of 90 degrees."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",), "rotation": (_ROTATIONS,)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "rotate"
    CATEGORY = "latent/transform"

    def rotate(self, samples: dict, rotation: str) -> tuple[dict]:
        quarter_turns = _ROTATIONS.index(rotation) if rotation in _ROTATIONS else 0
        return ({**samples, "samples": torch.rot90(samples["samples"], k=quarter_turns, dims=[3, 2])},)


class LatentFlip:
    """Mirror latents: "x-axis" flips top to bottom, "y-axis" left to right."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",), "flip_method": (["x-axis: vertically", "y-axis: horizontally"],)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "flip"
    CATEGORY = "latent/transform"

    def flip(self, samples: dict, flip_method: str) -> tuple[dict]:
        result = samples.copy()
        if flip_method.startswith("x"):
            result["samples"] = torch.flip(samples["samples"], dims=[2])
        elif flip_method.startswith("y"):
            result["samples"] = torch.flip(samples["samples"], dims=[3])
        return (result,)


class LatentCrop:
    """Cut a width x height pixel window at (x, y) (all ÷ 8); the start is pulled back to keep 8 latent pixels."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "samples": ("LATENT",),
            "width": ("INT", {"default": 512, "min": 64, "max": MAX_RESOLUTION, "step": 8}),
            "height": ("INT", {"default": 512, "min": 64, "max": MAX_RESOLUTION, "step": 8}),
            "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
            "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "crop"
    CATEGORY = "latent/transform"

    def crop(self, samples: dict, width: int, height: int, x: int, y: int) -> tuple[dict]:
        latent = samples["samples"]
        left = min(x // 8, latent.shape[3] - 8)
        top = min(y // 8, latent.shape[2] - 8)
        cropped = latent[:, :, top:top + height // 8, left:left + width // 8]
        return ({**samples, "samples": cropped},)


class LatentBlend:
    """samples1 × blend_factor + samples2 × (1 − blend_factor); samples2 is resized (bicubic, centre crop) to
    samples1 when their shapes differ."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "samples1": ("LATENT",),
            "samples2": ("LATENT",),
            "blend_factor": ("FLOAT", {"default": 0.5, "min": 0, "max": 1, "step": 0.01}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "blend"
    CATEGORY = "_for_testing"

    def blend(self, samples1: dict, samples2: dict, blend_factor: float, blend_mode: str = "normal") -> tuple[dict]:
        first, second = samples1["samples"], samples2["samples"]
        if first.shape != second.shape:
            second = comfy.utils.common_upscale(second, first.shape[3], first.shape[2], "bicubic", crop="center")
        blended = self.blend_mode(first, second, blend_mode)
        return ({**samples1, "samples": first * blend_factor + blended * (1 - blend_factor)},)

    def blend_mode(self, img1: torch.Tensor, img2: torch.Tensor, mode: str) -> torch.Tensor:
        if mode == "normal":
            return img2
        raise ValueError(f"LatentBlend: unsupported blend mode {mode!r}")


NODE_CLASS_MAPPINGS = {
    "LatentRotate": LatentRotate,
    "LatentFlip": LatentFlip,
    "LatentCrop": LatentCrop,
    "LatentBlend": LatentBlend,
}
