"""Mask nodes: make, invert, threshold, crop, combine, feather, grow and preview masks, convert between masks and
images, and paste images or latents through a mask.

MASK is float32 [B,H,W] in 0..1; IMAGE is float32 [B,H,W,C]; LATENT samples are [B,C,H,W].
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

import comfy.utils
import folder_paths
import node_helpers
import nodes
from nodes import MAX_RESOLUTION

_CHANNELS = ["red", "green", "blue", "alpha"]


def _as_batch(mask: torch.Tensor) -> torch.Tensor:
    """A mask as [B,H,W] (a single [H,W] mask becomes a batch of one)."""
    return mask.reshape((-1, mask.shape[-2], mask.shape[-1]))


class SolidMask:
    """A mask [1,height,width] filled with `value`."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "value": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
            "width": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "height": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "solid"

    def solid(self, value: float, width: int, height: int) -> tuple[torch.Tensor]:
        return (torch.full((1, height, width), value, dtype=torch.float32, device="cpu"),)


class InvertMask:
    """1 − mask."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"mask": ("MASK",)}}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "invert"

    def invert(self, mask: torch.Tensor) -> tuple[torch.Tensor]:
        return (1.0 - mask,)


class MaskToImage:
    """A mask as a grey image [B,H,W,3]."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"mask": ("MASK",)}}

    CATEGORY = "mask"
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "mask_to_image"

    def mask_to_image(self, mask: torch.Tensor) -> tuple[torch.Tensor]:
        return (_as_batch(mask).unsqueeze(-1).expand(-1, -1, -1, 3),)


class ImageToMask:
    """One channel of an image as a mask [B,H,W]."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE",), "channel": (_CHANNELS,)}}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "image_to_mask"

    def image_to_mask(self, image: torch.Tensor, channel: str) -> tuple[torch.Tensor]:
        index = _CHANNELS.index(channel)
        if index >= image.shape[-1]:
            raise ValueError(f"ImageToMask: the image has {image.shape[-1]} channels, so it has no '{channel}' "
                             "channel.")
        return (image[..., index],)


class ImageColorToMask:
    """1 where a pixel has exactly the colour 0xRRGGBB (after 8-bit rounding), else 0."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "color": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFF, "step": 1, "display": "color"}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "image_to_mask"

    def image_to_mask(self, image: torch.Tensor, color: int) -> tuple[torch.Tensor]:
        rgb = torch.clamp(image[..., :3], 0, 1.0).mul(255.0).round().to(torch.int64)
        packed = (rgb[..., 0] << 16) + (rgb[..., 1] << 8) + rgb[..., 2]
        return ((packed == color).float(),)


class ThresholdMask:
    """1 where mask > value, else 0."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "mask": ("MASK",),
            "value": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "image_to_mask"

    def image_to_mask(self, mask: torch.Tensor, value: float) -> tuple[torch.Tensor]:
        return ((mask > value).float(),)


class CropMask:
    """Cut a width x height window at (x, y) out of every mask."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "mask": ("MASK",),
            "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "width": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "height": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "crop"

    def crop(self, mask: torch.Tensor, x: int, y: int, width: int, height: int) -> tuple[torch.Tensor]:
        return (_as_batch(mask)[:, y:y + height, x:x + width],)


def composite(destination: torch.Tensor, source: torch.Tensor, x: int, y: int, mask: torch.Tensor | None = None,
              multiplier: int = 8, resize_source: bool = False) -> torch.Tensor:
    """Paste `source` into `destination` (both channels-first, [B,C,H,W]) in place at pixel (x, y), blended through
    `mask` (resized bilinearly to the source); positions are divided by `multiplier` (8 for latents). The part of
    the source outside the destination is dropped. Returns `destination`."""
    source = source.to(destination.device)
    if resize_source:
        source = torch.nn.functional.interpolate(source, size=(destination.shape[-2], destination.shape[-1]),
                                                 mode="bilinear")
    source = comfy.utils.repeat_to_batch_size(source, destination.shape[0])

    x = max(-source.shape[-1] * multiplier, min(x, destination.shape[-1] * multiplier))
    y = max(-source.shape[-2] * multiplier, min(y, destination.shape[-2] * multiplier))
    left, top = x // multiplier, y // multiplier
    right, bottom = left + source.shape[-1], top + source.shape[-2]

    if mask is None:
        mask = torch.ones_like(source)
    else:
        mask = mask.to(destination.device, copy=True)
        mask = torch.nn.functional.interpolate(mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])),
                                               size=(source.shape[-2], source.shape[-1]), mode="bilinear")
        mask = comfy.utils.repeat_to_batch_size(mask, source.shape[0])

    visible_width = destination.shape[-1] - left + min(0, x)
    visible_height = destination.shape[-2] - top + min(0, y)
    mask = mask[:, :, :visible_height, :visible_width]
    if mask.ndim < source.ndim:
        mask = mask.unsqueeze(1)
    source_part = mask * source[..., :visible_height, :visible_width]
    destination_part = (torch.ones_like(mask) - mask) * destination[..., top:bottom, left:right]
    destination[..., top:bottom, left:right] = source_part + destination_part
    return destination


class LatentCompositeMasked:
    """Paste the source latent into the destination at pixel (x, y) (a multiple of 8), through an optional mask."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "destination": ("LATENT",),
                "source": ("LATENT",),
                "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                "resize_source": ("BOOLEAN", {"default": False}),
            },
            "optional": {"mask": ("MASK",)},
        }

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "composite"
    CATEGORY = "latent"

    def composite(self, destination: dict, source: dict, x: int, y: int, resize_source: bool,
                  mask: torch.Tensor | None = None) -> tuple[dict]:
        output = destination.copy()
        pasted = composite(destination["samples"].clone(), source["samples"], x, y, mask, 8, resize_source)
        output["samples"] = pasted
        return (output,)


class ImageCompositeMasked:
    """Paste the source image into the destination at (x, y), through an optional mask."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "destination": ("IMAGE",),
                "source": ("IMAGE",),
                "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
                "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
                "resize_source": ("BOOLEAN", {"default": False}),
            },
            "optional": {"mask": ("MASK",)},
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "composite"
    CATEGORY = "image"

    def composite(self, destination: torch.Tensor, source: torch.Tensor, x: int, y: int, resize_source: bool,
                  mask: torch.Tensor | None = None) -> tuple[torch.Tensor]:
        destination, source = node_helpers.image_alpha_fix(destination, source)
        pasted = composite(destination.clone().movedim(-1, 1), source.movedim(-1, 1), x, y, mask, 1, resize_source)
        return (pasted.movedim(1, -1),)


MASK_OPERATIONS = ["multiply", "add", "subtract", "and", "or", "xor"]


class MaskComposite:
    """Combine the source mask into the destination at (x, y) with an arithmetic or logical operation."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "destination": ("MASK",),
            "source": ("MASK",),
            "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "operation": (MASK_OPERATIONS,),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "combine"

    def combine(self, destination: torch.Tensor, source: torch.Tensor, x: int, y: int,
                operation: str) -> tuple[torch.Tensor]:
        output = _as_batch(destination).clone()
        source = _as_batch(source)
        right = min(x + source.shape[-1], destination.shape[-1])
        bottom = min(y + source.shape[-2], destination.shape[-2])
        source_part = source[:, :bottom - y, :right - x]
        destination_part = output[:, y:bottom, x:right]
        if operation == "multiply":
            combined = destination_part * source_part
        elif operation == "add":
            combined = destination_part + source_part
        elif operation == "subtract":
            combined = destination_part - source_part
        elif operation in ("and", "or", "xor"):
            logical = {"and": torch.bitwise_and, "or": torch.bitwise_or, "xor": torch.bitwise_xor}[operation]
            combined = logical(destination_part.round().bool(), source_part.round().bool()).float()
        else:
            raise ValueError(f"MaskComposite: unknown operation {operation!r}; expected one of {MASK_OPERATIONS}")
        output[:, y:bottom, x:right] = combined
        return (torch.clamp(output, 0.0, 1.0),)


class FeatherMask:
    """Fade the mask linearly towards each edge over the given number of pixels."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "mask": ("MASK",),
            "left": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "top": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "right": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "bottom": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "feather"

    def feather(self, mask: torch.Tensor, left: int, top: int, right: int, bottom: int) -> tuple[torch.Tensor]:
        output = _as_batch(mask).clone()
        left, right = min(left, output.shape[-1]), min(right, output.shape[-1])
        top, bottom = min(top, output.shape[-2]), min(bottom, output.shape[-2])
        # ComfyUI indexes the right and bottom ramps as -offset, so their first step (offset 0) scales the first
        # column / row rather than the last; kept for identical results.
        for offset in range(left):
            output[:, :, offset] *= (offset + 1.0) / left
        for offset in range(right):
            output[:, :, -offset] *= (offset + 1) / right
        for offset in range(top):
            output[:, offset, :] *= (offset + 1) / top
        for offset in range(bottom):
            output[:, -offset, :] *= (offset + 1) / bottom
        return (output,)


class GrowMask:
    """Grow (expand > 0) or shrink (expand < 0) the mask by one pixel per step; tapered corners use a cross."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "mask": ("MASK",),
            "expand": ("INT", {"default": 0, "min": -MAX_RESOLUTION, "max": MAX_RESOLUTION, "step": 1}),
            "tapered_corners": ("BOOLEAN", {"default": True}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "expand_mask"

    def expand_mask(self, mask: torch.Tensor, expand: int, tapered_corners: bool) -> tuple[torch.Tensor]:
        import scipy.ndimage  # deferred: scipy takes a while to import and only this node needs it

        corner = 0 if tapered_corners else 1
        footprint = np.array([[corner, 1, corner], [1, 1, 1], [corner, 1, corner]])
        step = scipy.ndimage.grey_erosion if expand < 0 else scipy.ndimage.grey_dilation
        grown = []
        for single in _as_batch(mask):
            array = single.numpy()
            for _ in range(abs(expand)):
                array = step(array, footprint=footprint)
            grown.append(torch.from_numpy(array))
        return (torch.stack(grown, dim=0),)


class MaskPreview(nodes.SaveImage):
    """Show a mask as a grey image (saved to the temp folder)."""

    def __init__(self):
        self.output_dir = folder_paths.get_temp_directory()
        self.type = "temp"
        self.prefix_append = "_temp_" + "".join(random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5))
        self.compress_level = 4

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"mask": ("MASK",)}, "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    FUNCTION = "execute"
    CATEGORY = "mask"
    DESCRIPTION = "Saves the input images to your ComfyUI output directory."

    def execute(self, mask: torch.Tensor, filename_prefix: str = "ComfyUI", prompt: Any = None,
                extra_pnginfo: dict | None = None) -> dict:
        preview = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])).movedim(1, -1).expand(-1, -1, -1, 3)
        return self.save_images(preview, filename_prefix, prompt, extra_pnginfo)


NODE_CLASS_MAPPINGS = {
    "LatentCompositeMasked": LatentCompositeMasked,
    "ImageCompositeMasked": ImageCompositeMasked,
    "MaskToImage": MaskToImage,
    "ImageToMask": ImageToMask,
    "ImageColorToMask": ImageColorToMask,
    "SolidMask": SolidMask,
    "InvertMask": InvertMask,
    "CropMask": CropMask,
    "MaskComposite": MaskComposite,
    "FeatherMask": FeatherMask,
    "GrowMask": GrowMask,
    "ThresholdMask": ThresholdMask,
    "MaskPreview": MaskPreview,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "ImageToMask": "Convert Image to Mask",
    "MaskToImage": "Convert Mask to Image",
}
