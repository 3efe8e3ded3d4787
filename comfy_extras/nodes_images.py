"""Image batch and geometry nodes: crop, flip, rotate, pick from / repeat a batch, size."""

from __future__ import annotations

import torch

from nodes import MAX_RESOLUTION


class ImageCrop:
    """Cut a width x height window at (x, y) out of every image; the window is clipped at the image edge."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "width": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "height": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "crop"
    CATEGORY = "image/transform"

    def crop(self, image: torch.Tensor, width: int, height: int, x: int, y: int) -> tuple[torch.Tensor]:
        # A start beyond the image is pulled back so the result keeps at least one pixel.
        x = min(x, image.shape[2] - 1)
        y = min(y, image.shape[1] - 1)
        return (image[:, y:y + height, x:x + width, :],)


class RepeatImageBatch:
    """Repeat the whole image batch `amount` times."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "amount": ("INT", {"default": 1, "min": 1, "max": 4096}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "repeat"
    CATEGORY = "image/batch"

    def repeat(self, image: torch.Tensor, amount: int) -> tuple[torch.Tensor]:
        return (image.repeat((amount, 1, 1, 1)),)


class ImageFromBatch:
    """Take `length` images starting at `batch_index` (both clipped to the batch)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "batch_index": ("INT", {"default": 0, "min": 0, "max": 4095}),
            "length": ("INT", {"default": 1, "min": 1, "max": 4096}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "frombatch"
    CATEGORY = "image/batch"

    def frombatch(self, image: torch.Tensor, batch_index: int, length: int) -> tuple[torch.Tensor]:
        batch_index = min(image.shape[0] - 1, batch_index)
        length = min(image.shape[0] - batch_index, length)
        return (image[batch_index:batch_index + length].clone(),)


class ImageFlip:
    """Mirror images: "x-axis" flips top to bottom, "y-axis" left to right."""

    flip_methods = ["x-axis: vertically", "y-axis: horizontally"]

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE",), "flip_method": (cls.flip_methods,)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "flip"
    CATEGORY = "image/transform"

    def flip(self, image: torch.Tensor, flip_method: str) -> tuple[torch.Tensor]:
        dim = 1 if flip_method.startswith("x") else 2
        return (torch.flip(image, dims=[dim]),)


class ImageRotate:
    """Rotate images clockwise by a multiple of 90 degrees."""

    rotations = ["none", "90 degrees", "180 degrees", "270 degrees"]

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE",), "rotation": (cls.rotations,)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "rotate"
    CATEGORY = "image/transform"

    def rotate(self, image: torch.Tensor, rotation: str) -> tuple[torch.Tensor]:
        quarter_turns = self.rotations.index(rotation)
        # dims (W, H) turns clockwise as seen with row 0 at the top.
        return (torch.rot90(image, k=quarter_turns, dims=[2, 1]),)


class GetImageSize:
    """Width, height and batch size of an image batch."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE",)}}

    RETURN_TYPES = ("INT", "INT", "INT")
    RETURN_NAMES = ("width", "height", "batch_size")
    FUNCTION = "get_size"
    CATEGORY = "image"

    def get_size(self, image: torch.Tensor) -> tuple[int, int, int]:
        return (image.shape[2], image.shape[1], image.shape[0])


NODE_CLASS_MAPPINGS = {
    "ImageCrop": ImageCrop,
    "RepeatImageBatch": RepeatImageBatch,
    "ImageFromBatch": ImageFromBatch,
    "ImageFlip": ImageFlip,
    "ImageRotate": ImageRotate,
    "GetImageSize": GetImageSize,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "ImageCrop": "Image Crop",
    "GetImageSize": "Get Image Size",
}
