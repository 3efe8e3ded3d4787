"""Image nodes: crop, flip, rotate, stitch, pad and resize, batches, noise, size, and saving animations (WebP,
APNG) and SVGs with the workflow embedded.

IMAGE is float32 [B,H,W,C] in 0..1.
"""

from __future__ import annotations

import json
import os
import re
from io import BytesIO
from typing import Any

import numpy as np
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

import comfy.utils
import folder_paths
import node_helpers
from comfy.cli_args import args
from comfy.file_writing import whole_file, write_bytes_whole
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
    """Width, height and batch size of an image batch; shown on the node as progress text."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE",)}, "hidden": {"unique_id": "UNIQUE_ID"}}

    RETURN_TYPES = ("INT", "INT", "INT")
    RETURN_NAMES = ("width", "height", "batch_size")
    FUNCTION = "get_size"
    CATEGORY = "image"
    DESCRIPTION = """Returns width and height of the image, and passes it through unchanged."""

    def get_size(self, image: torch.Tensor, unique_id: str | None = None) -> tuple[int, int, int]:
        height, width, batch_size = image.shape[1], image.shape[2], image.shape[0]
        if unique_id:
            from server import PromptServer  # deferred: ComfyUI's channel for node text; absent in bare runs

            server = getattr(PromptServer, "instance", None)
            if server is not None:
                server.send_progress_text(
                    f"width: {width}, height: {height}\n batch size: {batch_size}", unique_id)
        return (width, height, batch_size)

class ImageAddNoise:
    """Add Gaussian noise (seeded, drawn on the CPU) times `strength`, clipped to 0..1."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "seed": ("INT", {"default": 0, "min": 0, "max": 0xffffffffffffffff, "control_after_generate": True,
                             "tooltip": "The random seed used for creating the noise."}),
            "strength": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "repeat"
    CATEGORY = "image"

    def repeat(self, image: torch.Tensor, seed: int, strength: float) -> tuple[torch.Tensor]:
        generator = torch.manual_seed(seed)
        noise = torch.randn(image.size(), generator=generator, device="cpu").to(image)
        return (torch.clip(image + strength * noise, min=0.0, max=1.0),)


def _frames_as_pil(images: torch.Tensor) -> list[Image.Image]:
    """8-bit Pillow frames (clipped, truncated) of an image batch."""
    return [Image.fromarray(np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)) for image in images]


class SaveAnimatedWEBP(node_helpers.SavesToOutputFolder):
    """Save the batch as one animated WebP; the prompt and workflow go in EXIF tags 0x0110 and 0x010f down."""

    methods = {"default": 4, "fastest": 0, "slowest": 6}

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE",),
                "filename_prefix": ("STRING", {"default": "ComfyUI"}),
                "fps": ("FLOAT", {"default": 6.0, "min": 0.01, "max": 1000.0, "step": 0.01}),
                "lossless": ("BOOLEAN", {"default": True}),
                "quality": ("INT", {"default": 80, "min": 0, "max": 100}),
                "method": (list(cls.methods.keys()),),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    RETURN_TYPES = ()
    FUNCTION = "save_images"
    OUTPUT_NODE = True
    CATEGORY = "image/animation"

    def save_images(self, images: torch.Tensor, fps: float, filename_prefix: str, lossless: bool, quality: int,
                    method: str, num_frames: int = 0, prompt: Any = None, extra_pnginfo: dict | None = None) -> dict:
        effort = self.methods.get(method)
        filename_prefix += self.prefix_append
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, self.output_dir, images[0].shape[1], images[0].shape[0])
        frames = _frames_as_pil(images)
        exif = frames[0].getexif()
        if not args.disable_metadata:
            if prompt is not None:
                exif[0x0110] = "prompt:{}".format(json.dumps(prompt))
            if extra_pnginfo is not None:
                tag = 0x010f  # one tag per key, counting down
                for key in extra_pnginfo:
                    exif[tag] = "{}:{}".format(key, json.dumps(extra_pnginfo[key]))
                    tag -= 1
        frames_per_file = num_frames or len(frames)
        results = []
        for start in range(0, len(frames), frames_per_file):
            file = f"{filename}_{counter:05}_.webp"
            with whole_file(os.path.join(full_output_folder, file)) as partial:
                frames[start].save(partial, save_all=True, duration=int(1000.0 / fps),
                                   append_images=frames[start + 1:start + frames_per_file], exif=exif,
                                   lossless=lossless, quality=quality, method=effort)
            results.append({"filename": file, "subfolder": subfolder, "type": self.type})
            counter += 1
        return {"ui": {"images": results, "animated": (frames_per_file != 1,)}}


class SaveAnimatedPNG(node_helpers.SavesToOutputFolder):
    """Save the batch as one APNG; the prompt and workflow go in `comf` chunks after the image data."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE",),
                "filename_prefix": ("STRING", {"default": "ComfyUI"}),
                "fps": ("FLOAT", {"default": 6.0, "min": 0.01, "max": 1000.0, "step": 0.01}),
                "compress_level": ("INT", {"default": 4, "min": 0, "max": 9}),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    RETURN_TYPES = ()
    FUNCTION = "save_images"
    OUTPUT_NODE = True
    CATEGORY = "image/animation"

    def save_images(self, images: torch.Tensor, fps: float, compress_level: int, filename_prefix: str = "ComfyUI",
                    prompt: Any = None, extra_pnginfo: dict | None = None) -> dict:
        filename_prefix += self.prefix_append
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, self.output_dir, images[0].shape[1], images[0].shape[0])
        frames = _frames_as_pil(images)
        metadata = None
        if not args.disable_metadata:
            metadata = PngInfo()
            entries = ([("prompt", prompt)] if prompt is not None else []) + list((extra_pnginfo or {}).items())
            for key, value in entries:
                chunk = key.encode("latin-1", "strict") + b"\0" + json.dumps(value).encode("latin-1", "strict")
                metadata.add(b"comf", chunk, after_idat=True)
        file = f"{filename}_{counter:05}_.png"
        with whole_file(os.path.join(full_output_folder, file)) as partial:
            frames[0].save(partial, pnginfo=metadata, compress_level=compress_level, save_all=True,
                           duration=int(1000.0 / fps), append_images=frames[1:])
        return {"ui": {"images": [{"filename": file, "subfolder": subfolder, "type": self.type}],
                       "animated": (True,)}}


class SVG:
    """The SVG type: a list of SVG documents, each a BytesIO."""

    def __init__(self, data: list[BytesIO]):
        self.data = data

    def combine(self, other: SVG) -> SVG:
        return SVG(self.data + other.data)

    @staticmethod
    def combine_all(svgs: list[SVG]) -> SVG:
        return SVG([document for svg in svgs for document in svg.data])


def _svg_metadata_element(metadata_json: str) -> str:
    """The <metadata> block SaveSVGNode inserts after the opening <svg> tag (ComfyUI's exact whitespace)."""
    return ("  <metadata>\n                <![CDATA[\n            " + metadata_json
            + "\n                ]]>\n            </metadata>\n            ")


class SaveSVGNode(node_helpers.SavesToOutputFolder):
    """
    Save SVG files on disk.
    """

    RETURN_TYPES = ()
    DESCRIPTION = "Save SVG files on disk."
    FUNCTION = "save_svg"
    CATEGORY = "image/save"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "svg": ("SVG",),
                "filename_prefix": ("STRING", {
                    "default": "svg/ComfyUI",
                    "tooltip": "The prefix for the file to save. This may include formatting information such as "
                               "%date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.",
                }),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    def save_svg(self, svg: SVG, filename_prefix: str = "svg/ComfyUI", prompt: Any = None,
                 extra_pnginfo: dict | None = None) -> dict:
        filename_prefix += self.prefix_append
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, self.output_dir)
        metadata: dict[str, Any] = {}
        if prompt is not None:
            metadata["prompt"] = prompt
        if extra_pnginfo is not None:
            metadata.update(extra_pnginfo)
        metadata_json = json.dumps(metadata, indent=2) if metadata else None
        insertion = "\n" + _svg_metadata_element(metadata_json) if metadata_json else ""
        results = []
        for batch_number, document in enumerate(svg.data):
            file = f"{filename.replace('%batch_num%', str(batch_number))}_{counter:05}_.svg"
            document.seek(0)
            content = document.read().decode("utf-8")
            if insertion:
                # After every opening <svg ...> tag, as ComfyUI does.
                content = re.sub(r"(<svg[^>]*>)", lambda match: match.group(1) + insertion, content)
            write_bytes_whole(os.path.join(full_output_folder, file), content.encode("utf-8"))
            results.append({"filename": file, "subfolder": subfolder, "type": self.type})
            counter += 1
        return {"ui": {"images": results}}


_STITCH_COLOURS: dict[str, float | tuple[float, float, float]] = {
    "white": 1.0, "black": 0.0, "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
}


def _repeat_last_to(images: torch.Tensor, batch: int) -> torch.Tensor:
    """Extend a batch to `batch` images by repeating its last image."""
    if images.shape[0] >= batch:
        return images
    return torch.cat([images, images[-1:].repeat(batch - images.shape[0], 1, 1, 1)])


def _pad_centred(images: torch.Tensor, dim: int, size: int, value: float) -> torch.Tensor:
    """Pad [B,H,W,C] along dim 1 or 2 to `size`, the smaller half before (ComfyUI's split)."""
    missing = size - images.shape[dim]
    if missing <= 0:
        return images
    before, after = missing // 2, missing - missing // 2
    padding = (0, 0, 0, 0, before, after) if dim == 1 else (0, 0, before, after)
    return torch.nn.functional.pad(images, padding, mode="constant", value=value)


def _with_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Add channels of ones up to `channels`."""
    if images.shape[-1] >= channels:
        return images
    ones = torch.ones(*images.shape[:-1], channels - images.shape[-1], device=images.device)
    return torch.cat([images, ones], dim=-1)


class ImageStitch:
    """Upstreamed from https://github.com/kijai/ComfyUI-KJNodes"""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image1": ("IMAGE",),
                "direction": (["right", "down", "left", "up"], {"default": "right"}),
                "match_image_size": ("BOOLEAN", {"default": True}),
                "spacing_width": ("INT", {"default": 0, "min": 0, "max": 1024, "step": 2}),
                "spacing_color": (["white", "black", "red", "green", "blue"], {"default": "white"}),
            },
            "optional": {"image2": ("IMAGE",)},
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "stitch"
    CATEGORY = "image/transform"
    DESCRIPTION = """
Stitches image2 to image1 in the specified direction.
If image2 is not provided, returns image1 unchanged.
Optional spacing can be added between images.
"""

    def stitch(self, image1: torch.Tensor, direction: str, match_image_size: bool, spacing_width: int,
               spacing_color: str, image2: torch.Tensor | None = None) -> tuple[torch.Tensor]:
        if image2 is None:
            return (image1,)
        batch = max(image1.shape[0], image2.shape[0])
        image1, image2 = _repeat_last_to(image1, batch), _repeat_last_to(image2, batch)
        horizontal = direction in ("left", "right")
        colour = _STITCH_COLOURS[spacing_color]

        if match_image_size:
            height1, width1 = image1.shape[1:3]
            height2, width2 = image2.shape[1:3]
            aspect = width2 / height2
            if horizontal:
                target_height, target_width = height1, int(height1 * aspect)
            else:
                target_width, target_height = width1, int(width1 / aspect)
            image2 = comfy.utils.common_upscale(image2.movedim(-1, 1), target_width, target_height, "lanczos",
                                                "disabled").movedim(1, -1)
        else:
            # Align the side that is not joined; a coloured spacing pads with black.
            pad_value = 0.0 if isinstance(colour, tuple) else colour
            dim = 1 if horizontal else 2
            size = max(image1.shape[dim], image2.shape[dim])
            image1, image2 = _pad_centred(image1, dim, size, pad_value), _pad_centred(image2, dim, size, pad_value)

        channels = max(image1.shape[-1], image2.shape[-1])
        image1, image2 = _with_channels(image1, channels), _with_channels(image2, channels)

        parts = [image2, image1] if direction in ("left", "up") else [image1, image2]
        if spacing_width > 0:
            spacing_width += spacing_width % 2
            if horizontal:
                shape = (image1.shape[0], max(image1.shape[1], image2.shape[1]), spacing_width, channels)
            else:
                shape = (image1.shape[0], spacing_width, max(image1.shape[2], image2.shape[2]), channels)
            spacing = torch.full(shape, 0.0, device=image1.device)
            if isinstance(colour, tuple):
                for index, value in enumerate(colour[:channels]):
                    spacing[..., index] = value
            else:
                spacing[..., :min(3, channels)] = colour
            if channels == 4:
                spacing[..., 3] = 1.0
            parts.insert(1, spacing)
        return (torch.cat(parts, dim=2 if horizontal else 1),)


class ResizeAndPadImage:
    """Fit the image inside target_width x target_height (aspect kept), centred on white or black."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "target_width": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "target_height": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "padding_color": (["white", "black"],),
            "interpolation": (["area", "bicubic", "nearest-exact", "bilinear", "lanczos"],),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "resize_and_pad"
    CATEGORY = "image/transform"

    def resize_and_pad(self, image: torch.Tensor, target_width: int, target_height: int, padding_color: str,
                       interpolation: str) -> tuple[torch.Tensor]:
        batch, height, width, channels = image.shape
        scale = min(target_width / width, target_height / height)
        new_width, new_height = int(width * scale), int(height * scale)
        resized = comfy.utils.common_upscale(image.permute(0, 3, 1, 2), new_width, new_height, interpolation,
                                             "disabled")
        pad_value = 0.0 if padding_color == "black" else 1.0
        padded = torch.full((batch, channels, target_height, target_width), pad_value, dtype=image.dtype,
                            device=image.device)
        top, left = (target_height - new_height) // 2, (target_width - new_width) // 2
        padded[:, :, top:top + new_height, left:left + new_width] = resized
        return (padded.permute(0, 2, 3, 1),)


class ImageScaleToMaxDimension:
    """Resize so the longer side is `largest_size`, keeping the aspect ratio (rounded)."""

    # "bilinear" twice is ComfyUI's list.
    upscale_methods = ["area", "lanczos", "bilinear", "nearest-exact", "bilinear", "bicubic"]

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "upscale_method": (cls.upscale_methods,),
            "largest_size": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "upscale"
    CATEGORY = "image/upscaling"

    def upscale(self, image: torch.Tensor, upscale_method: str, largest_size: int) -> tuple[torch.Tensor]:
        height, width = image.shape[1], image.shape[2]
        if height > width:
            width, height = round((width / height) * largest_size), largest_size
        elif width > height:
            width, height = largest_size, round((height / width) * largest_size)
        else:
            width = height = largest_size
        resized = comfy.utils.common_upscale(image.movedim(-1, 1), width, height, upscale_method, "disabled")
        return (resized.movedim(1, -1),)


NODE_CLASS_MAPPINGS = {
    "ImageCrop": ImageCrop,
    "RepeatImageBatch": RepeatImageBatch,
    "ImageFromBatch": ImageFromBatch,
    "ImageAddNoise": ImageAddNoise,
    "SaveAnimatedWEBP": SaveAnimatedWEBP,
    "SaveAnimatedPNG": SaveAnimatedPNG,
    "SaveSVGNode": SaveSVGNode,
    "ImageStitch": ImageStitch,
    "ResizeAndPadImage": ResizeAndPadImage,
    "GetImageSize": GetImageSize,
    "ImageRotate": ImageRotate,
    "ImageFlip": ImageFlip,
    "ImageScaleToMaxDimension": ImageScaleToMaxDimension,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "ImageCrop": "Image Crop",
    "GetImageSize": "Get Image Size",
}
