"""The core node classes and the node registry (`NODE_CLASS_MAPPINGS`) that the executor and custom nodes use.

Node classes follow ComfyUI's V1 contract: `INPUT_TYPES()`, `RETURN_TYPES`, `FUNCTION`, `CATEGORY`... Data
conventions: IMAGE is float32 [B,H,W,C] in 0..1, MASK is float32 [B,H,W], LATENT is a dict
{"samples": [B,4,H/8,W/8], optional "batch_index": list[int], optional "noise_mask"}.
File reading/writing lives in `node_helpers`; loading of `comfy_extras` and custom nodes in
`comfy_execution.node_loading`.
"""

from __future__ import annotations

import json
import os
import random
import sys
from typing import Any

import torch

import comfy.model_management
import folder_paths
import node_helpers
from comfy.cli_args import args

# ComfyUI puts its `comfy` folder first on the import path; some custom nodes rely on importing its modules
# by bare name (`import model_management`).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "comfy"))

from core_nodes import MAX_RESOLUTION  # noqa: E402  ComfyUI's public name

# Filled by the custom-node loader: web directory per extension, and directory per loaded module.
EXTENSION_WEB_DIRS: dict[str, str] = {}
LOADED_MODULE_DIRS: dict[str, str] = {}


def interrupt_processing(value: bool = True) -> None:
    """Ask the current run to stop at its next check (`value=False` withdraws the request). ComfyUI's name, for
    custom nodes; `/interrupt` sets the token of the run it targets through the runner instead."""
    comfy.model_management.interrupt_current_processing(value)


def before_node_execution() -> None:
    """Called by the executor before every node call; raises InterruptProcessingException if interrupted."""
    comfy.model_management.throw_exception_if_processing_interrupted()


# --- images --------------------------------------------------------------------------------------------------


class SaveImage(node_helpers.SavesToOutputFolder):
    """Write each image of a batch as a PNG in the output folder, with the prompt and workflow as text chunks.

    Subclasses (PreviewImage, and custom nodes) change `output_dir`, `type`, `prefix_append`, `compress_level`.
    """

    def __init__(self):
        super().__init__()
        self.compress_level = 4

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The images to save."}),
                "filename_prefix": ("STRING", {
                    "default": "ComfyUI",
                    "tooltip": "The prefix for the file to save. This may include formatting information such as "
                               "%date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.",
                }),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    RETURN_TYPES = ()
    FUNCTION = "save_images"
    OUTPUT_NODE = True
    CATEGORY = "image"
    DESCRIPTION = "Saves the input images to your ComfyUI output directory."

    def save_images(self, images: torch.Tensor, filename_prefix: str = "ComfyUI", prompt: Any = None,
                    extra_pnginfo: dict | None = None) -> dict:
        filename_prefix += self.prefix_append
        height, width = images[0].shape[0], images[0].shape[1]
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, self.output_dir, width, height)
        metadata = node_helpers.png_metadata(prompt, extra_pnginfo)
        results = []
        for batch_number, image in enumerate(images):
            file = f"{filename.replace('%batch_num%', str(batch_number))}_{counter:05}_.png"
            node_helpers.save_png(image, os.path.join(full_output_folder, file), metadata, self.compress_level)
            results.append({"filename": file, "subfolder": subfolder, "type": self.type})
            counter += 1
        return {"ui": {"images": results}}


class PreviewImage(SaveImage):
    """Like SaveImage, into the temp folder (cleared at startup) with a random per-node name suffix."""

    def __init__(self):
        self.output_dir = folder_paths.get_temp_directory()
        self.type = "temp"
        self.prefix_append = "_temp_" + "".join(random.choice("abcdefghijklmnopqrstupvxyz") for _ in range(5))
        self.compress_level = 1

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"images": ("IMAGE",)},
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }


class LoadImage:
    """Load an image from the input folder as IMAGE [N,H,W,3] and MASK (1 − alpha) [N,H,W]."""

    @classmethod
    def INPUT_TYPES(cls):
        files = folder_paths.filter_files_content_types(node_helpers.list_input_files(), ["image"])
        return {"required": {"image": (sorted(files), {"image_upload": True})}}

    CATEGORY = "image"
    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "load_image"

    def load_image(self, image: str) -> tuple[torch.Tensor, torch.Tensor]:
        return node_helpers.load_image_file(folder_paths.get_annotated_filepath(image))

    @classmethod
    def IS_CHANGED(cls, image: str) -> str:
        return node_helpers.file_sha256(folder_paths.get_annotated_filepath(image))

    @classmethod
    def VALIDATE_INPUTS(cls, image: str) -> str | bool:
        if not folder_paths.exists_annotated_filepath(image):
            return f"Invalid image file: {image}"
        return True


def _as_output_file(name: str) -> str:
    """Annotate a bare file name so it resolves in the output folder."""
    return name if name.endswith("]") else f"{name} [output]"


class LoadImageOutput(LoadImage):
    """LoadImage reading from the output folder; the frontend fetches the file list from a route."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("COMBO", {
            "image_upload": True,
            "image_folder": "output",
            "remote": {"route": "/internal/files/output", "refresh_button": True, "control_after_refresh": "first"},
        })}}

    DESCRIPTION = ("Load an image from the output folder. When the refresh button is clicked, the node will update "
                   "the image list and automatically select the first image, allowing for easy iteration.")
    EXPERIMENTAL = True
    FUNCTION = "load_image_output"

    def load_image_output(self, image: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self.load_image(_as_output_file(image))

    @classmethod
    def IS_CHANGED(cls, image: str) -> str:
        return super().IS_CHANGED(_as_output_file(image))

    @classmethod
    def VALIDATE_INPUTS(cls, image: str) -> str | bool:
        if not folder_paths.exists_annotated_filepath(_as_output_file(image)):
            return f"Invalid image file: {image}"
        return True


class LoadImageMask:
    """Load one channel of an image from the input folder as a MASK [1,H,W] (the alpha channel inverted)."""

    _color_channels = ["alpha", "red", "green", "blue"]

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": (node_helpers.list_input_files(), {"image_upload": True}),
            "channel": (cls._color_channels,),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "load_image"

    def load_image(self, image: str, channel: str) -> tuple[torch.Tensor]:
        return (node_helpers.load_image_channel(folder_paths.get_annotated_filepath(image), channel),)

    @classmethod
    def IS_CHANGED(cls, image: str, channel: str) -> str:
        return node_helpers.file_sha256(folder_paths.get_annotated_filepath(image))

    @classmethod
    def VALIDATE_INPUTS(cls, image: str) -> str | bool:
        if not folder_paths.exists_annotated_filepath(image):
            return f"Invalid image file: {image}"
        return True


class EmptyImage:
    """A batch of images filled with one colour (0xRRGGBB)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "width": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "height": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096}),
            "color": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFF, "step": 1, "display": "color"}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "generate"
    CATEGORY = "image"

    def __init__(self, device: str = "cpu"):
        self.device = device  # where the images are made (a pack may build the node for another device)

    def generate(self, width: int, height: int, batch_size: int = 1, color: int = 0) -> tuple[torch.Tensor]:
        rgb = torch.tensor([(color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF], dtype=torch.float32,
                           device=self.device) / 255.0
        return (rgb.expand(batch_size, height, width, 3).clone(),)


class ImageScale:
    """Resize images to width x height; a 0 side keeps the aspect ratio, both 0 leave the image as it is."""

    upscale_methods = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
    crop_methods = ["disabled", "center"]

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "upscale_method": (cls.upscale_methods,),
            "width": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "height": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "crop": (cls.crop_methods,),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "upscale"
    CATEGORY = "image/upscaling"

    def upscale(self, image: torch.Tensor, upscale_method: str, width: int, height: int,
                crop: str) -> tuple[torch.Tensor]:
        if width == 0 and height == 0:
            return (image,)
        old_height, old_width = image.shape[1], image.shape[2]
        if width == 0:
            width = max(1, round(old_width * height / old_height))
        elif height == 0:
            height = max(1, round(old_height * width / old_width))
        samples = node_helpers.upscale(image.movedim(-1, 1), width, height, upscale_method, crop)
        return (samples.movedim(1, -1),)


class ImageScaleBy:
    """Resize images by a factor."""

    upscale_methods = ImageScale.upscale_methods

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("IMAGE",),
            "upscale_method": (cls.upscale_methods,),
            "scale_by": ("FLOAT", {"default": 1.0, "min": 0.01, "max": 8.0, "step": 0.01}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "upscale"
    CATEGORY = "image/upscaling"

    def upscale(self, image: torch.Tensor, upscale_method: str, scale_by: float) -> tuple[torch.Tensor]:
        width = round(image.shape[2] * scale_by)
        height = round(image.shape[1] * scale_by)
        samples = node_helpers.upscale(image.movedim(-1, 1), width, height, upscale_method, "disabled")
        return (samples.movedim(1, -1),)


class ImageInvert:
    """1 − image."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image": ("IMAGE",)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "invert"
    CATEGORY = "image"

    def invert(self, image: torch.Tensor) -> tuple[torch.Tensor]:
        return (1.0 - image,)


class ImageBatch:
    """Concatenate two image batches; image2 is resized (bilinear, centre crop) to image1's size if needed."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"image1": ("IMAGE",), "image2": ("IMAGE",)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "batch"
    CATEGORY = "image"

    def batch(self, image1: torch.Tensor, image2: torch.Tensor) -> tuple[torch.Tensor]:
        # Match channel counts by adding an opaque alpha band to the image that lacks it.
        if image1.shape[-1] < image2.shape[-1]:
            image2, image1 = node_helpers.image_alpha_fix(image2, image1)
        else:
            image1, image2 = node_helpers.image_alpha_fix(image1, image2)
        if image1.shape[1:3] != image2.shape[1:3]:
            image2 = node_helpers.upscale(image2.movedim(-1, 1), image1.shape[2], image1.shape[1], "bilinear",
                                          "center").movedim(1, -1)
        return (torch.cat((image1, image2), dim=0),)


class ImagePadForOutpaint:
    """Pad images with grey (0.5) on each side; the MASK marks the padding (1) with a feathered edge inside."""

    @classmethod
    def INPUT_TYPES(cls):
        side = ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8})
        return {"required": {
            "image": ("IMAGE",),
            "left": side, "top": side, "right": side, "bottom": side,
            "feathering": ("INT", {"default": 40, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
        }}

    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "expand_image"
    CATEGORY = "image"

    def expand_image(self, image: torch.Tensor, left: int, top: int, right: int, bottom: int,
                     feathering: int) -> tuple[torch.Tensor, torch.Tensor]:
        batch, height, width, channels = image.shape
        new_image = torch.full((batch, height + top + bottom, width + left + right, channels), 0.5,
                               dtype=torch.float32, device=image.device)
        new_image[:, top:top + height, left:left + width, :] = image
        mask = torch.ones((height + top + bottom, width + left + right), dtype=torch.float32)
        mask[top:top + height, left:left + width] = node_helpers.outpaint_feather(
            height, width, feathering, top=top > 0, bottom=bottom > 0, left=left > 0, right=right > 0)
        return (new_image, mask.unsqueeze(0))


# --- latents -------------------------------------------------------------------------------------------------


class EmptyLatentImage:
    """A batch of all-zero SD latents: {"samples": [B, 4, height/8, width/8]} on the intermediate device."""

    def __init__(self):
        self.device = comfy.model_management.intermediate_device()

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "width": ("INT", {"default": 512, "min": 16, "max": MAX_RESOLUTION, "step": 8,
                              "tooltip": "The width of the latent images in pixels."}),
            "height": ("INT", {"default": 512, "min": 16, "max": MAX_RESOLUTION, "step": 8,
                               "tooltip": "The height of the latent images in pixels."}),
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096,
                                   "tooltip": "The number of latent images in the batch."}),
        }}

    RETURN_TYPES = ("LATENT",)
    OUTPUT_TOOLTIPS = ("The empty latent image batch.",)
    FUNCTION = "generate"
    CATEGORY = "latent"
    DESCRIPTION = "Create a new batch of empty latent images to be denoised via sampling."

    def generate(self, width: int, height: int, batch_size: int = 1) -> tuple[dict]:
        latent = torch.zeros([batch_size, 4, height // 8, width // 8], device=self.device)
        return ({"samples": latent},)


class LatentUpscale:
    """Resize latents to width x height pixels (÷ 8 in latent space; each side at least 64 pixels)."""

    upscale_methods = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]
    crop_methods = ["disabled", "center"]

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "samples": ("LATENT",),
            "upscale_method": (cls.upscale_methods,),
            "width": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
            "height": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
            "crop": (cls.crop_methods,),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "upscale"
    CATEGORY = "latent"

    def upscale(self, samples: dict, upscale_method: str, width: int, height: int, crop: str) -> tuple[dict]:
        if width == 0 and height == 0:
            return (samples,)
        latent = samples["samples"]
        if width == 0:
            height = max(64, height)
            width = max(64, round(latent.shape[-1] * height / latent.shape[-2]))
        elif height == 0:
            width = max(64, width)
            height = max(64, round(latent.shape[-2] * width / latent.shape[-1]))
        else:
            width, height = max(64, width), max(64, height)
        result = samples.copy()
        result["samples"] = node_helpers.upscale(latent, width // 8, height // 8, upscale_method, crop)
        return (result,)


class LatentUpscaleBy:
    """Resize latents by a factor."""

    upscale_methods = LatentUpscale.upscale_methods

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "samples": ("LATENT",),
            "upscale_method": (cls.upscale_methods,),
            "scale_by": ("FLOAT", {"default": 1.5, "min": 0.01, "max": 8.0, "step": 0.01}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "upscale"
    CATEGORY = "latent"

    def upscale(self, samples: dict, upscale_method: str, scale_by: float) -> tuple[dict]:
        latent = samples["samples"]
        width = round(latent.shape[-1] * scale_by)
        height = round(latent.shape[-2] * scale_by)
        result = samples.copy()
        result["samples"] = node_helpers.upscale(latent, width, height, upscale_method, "disabled")
        return (result,)


class LatentFromBatch:
    """Take `length` latents starting at `batch_index`; records their original indices in "batch_index" so
    a sampler draws the same noise for them as for the whole batch."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "samples": ("LATENT",),
            "batch_index": ("INT", {"default": 0, "min": 0, "max": 63}),
            "length": ("INT", {"default": 1, "min": 1, "max": 64}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "frombatch"
    CATEGORY = "latent/batch"

    def frombatch(self, samples: dict, batch_index: int, length: int) -> tuple[dict]:
        latent = samples["samples"]
        batch_index = min(latent.shape[0] - 1, batch_index)
        length = min(latent.shape[0] - batch_index, length)
        result = samples.copy()
        result["samples"] = latent[batch_index:batch_index + length].clone()
        if "noise_mask" in samples:
            masks = samples["noise_mask"]
            if masks.shape[0] == 1:
                result["noise_mask"] = masks.clone()
            else:
                masks = node_helpers.repeat_batch(masks, latent.shape[0])
                result["noise_mask"] = masks[batch_index:batch_index + length].clone()
        if "batch_index" in samples:
            result["batch_index"] = samples["batch_index"][batch_index:batch_index + length]
        else:
            result["batch_index"] = list(range(batch_index, batch_index + length))
        return (result,)


class RepeatLatentBatch:
    """Repeat the whole latent batch `amount` times."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "samples": ("LATENT",),
            "amount": ("INT", {"default": 1, "min": 1, "max": 64}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "repeat"
    CATEGORY = "latent/batch"

    def repeat(self, samples: dict, amount: int) -> tuple[dict]:
        latent = samples["samples"]
        result = samples.copy()
        result["samples"] = latent.repeat((amount,) + (1,) * (latent.ndim - 1))
        if "noise_mask" in samples and samples["noise_mask"].shape[0] > 1:
            masks = node_helpers.repeat_batch(samples["noise_mask"], latent.shape[0])
            result["noise_mask"] = masks.repeat((amount,) + (1,) * (masks.ndim - 1))
        if "batch_index" in samples:
            indices = samples["batch_index"]
            offset = max(indices) - min(indices) + 1
            result["batch_index"] = indices + [index + copy * offset for copy in range(1, amount) for index in indices]
        return (result,)


class LatentComposite:
    """Paste samples_from into samples_to at pixel position (x, y), optionally feathering the pasted edges."""

    @classmethod
    def INPUT_TYPES(cls):
        position = ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8})
        return {"required": {
            "samples_to": ("LATENT",),
            "samples_from": ("LATENT",),
            "x": position,
            "y": position,
            "feather": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "composite"
    CATEGORY = "latent"

    def composite(self, samples_to: dict, samples_from: dict, x: int, y: int, composite_method: str = "normal",
                  feather: int = 0) -> tuple[dict]:
        x, y, feather = x // 8, y // 8, feather // 8
        destination = samples_to["samples"]
        canvas = destination.clone()
        source = samples_from["samples"][..., :destination.shape[-2] - y, :destination.shape[-1] - x]
        height, width = source.shape[-2], source.shape[-1]
        region = canvas[..., y:y + height, x:x + width]
        if feather == 0:
            region[...] = source
        else:
            mask = node_helpers.composite_feather(source, feather, top=y != 0, left=x != 0,
                                                  bottom=y + height < destination.shape[-2],
                                                  right=x + width < destination.shape[-1])
            region[...] = source * mask + region * (1.0 - mask)
        result = samples_to.copy()
        result["samples"] = canvas
        return (result,)


class SaveLatent:
    """Write latents to the output folder as a `.latent` (safetensors) file."""

    def __init__(self):
        self.output_dir = folder_paths.get_output_directory()

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "samples": ("LATENT",),
                "filename_prefix": ("STRING", {"default": "latents/ComfyUI"}),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "_for_testing"

    def save(self, samples: dict, filename_prefix: str = "ComfyUI", prompt: Any = None,
             extra_pnginfo: dict | None = None) -> dict:
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, self.output_dir)
        metadata = None
        if not args.disable_metadata:
            metadata = {"prompt": json.dumps(prompt) if prompt is not None else ""}
            for key, value in (extra_pnginfo or {}).items():
                metadata[key] = json.dumps(value)
        file = f"{filename}_{counter:05}_.latent"
        node_helpers.save_latent_file(os.path.join(full_output_folder, file), samples["samples"], metadata)
        return {"ui": {"latents": [{"filename": file, "subfolder": subfolder, "type": "output"}]}}


class LoadLatent:
    """Read a `.latent` file from the input folder."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"latent": [node_helpers.list_input_files((".latent",))]}}

    CATEGORY = "_for_testing"
    RETURN_TYPES = ("LATENT",)
    FUNCTION = "load"

    def load(self, latent: str) -> tuple[dict]:
        return ({"samples": node_helpers.load_latent_file(folder_paths.get_annotated_filepath(latent))},)

    @classmethod
    def IS_CHANGED(cls, latent: str) -> str:
        return node_helpers.file_sha256(folder_paths.get_annotated_filepath(latent))

    @classmethod
    def VALIDATE_INPUTS(cls, latent: str) -> str | bool:
        if not folder_paths.exists_annotated_filepath(latent):
            return f"Invalid latent file: {latent}"
        return True


# --- registry ------------------------------------------------------------------------------------------------

NODE_CLASS_MAPPINGS: dict[str, type] = {
    "EmptyLatentImage": EmptyLatentImage,
    "LatentUpscale": LatentUpscale,
    "LatentUpscaleBy": LatentUpscaleBy,
    "LatentFromBatch": LatentFromBatch,
    "RepeatLatentBatch": RepeatLatentBatch,
    "SaveImage": SaveImage,
    "PreviewImage": PreviewImage,
    "LoadImage": LoadImage,
    "LoadImageMask": LoadImageMask,
    "LoadImageOutput": LoadImageOutput,
    "ImageScale": ImageScale,
    "ImageScaleBy": ImageScaleBy,
    "ImageInvert": ImageInvert,
    "ImageBatch": ImageBatch,
    "ImagePadForOutpaint": ImagePadForOutpaint,
    "EmptyImage": EmptyImage,
    "LatentComposite": LatentComposite,
    "LoadLatent": LoadLatent,
    "SaveLatent": SaveLatent,
}

# The model nodes live in core_nodes/ (one file per job); they are core nodes all the same.
from core_nodes import clip_vision as _clip_vision  # noqa: E402
from core_nodes import conditioning as _conditioning  # noqa: E402
from core_nodes import controlnet as _controlnet  # noqa: E402
from core_nodes import gligen as _gligen  # noqa: E402
from core_nodes import latent_transforms as _latent_transforms  # noqa: E402
from core_nodes import loaders as _loaders  # noqa: E402
from core_nodes import sampling as _sampling  # noqa: E402
from core_nodes import style_models as _style_models  # noqa: E402
from core_nodes import vae_nodes as _vae_nodes  # noqa: E402
from core_nodes.sampling import common_ksampler  # noqa: E402,F401  ComfyUI's public name

for _module in (_loaders, _conditioning, _sampling, _vae_nodes, _latent_transforms, _controlnet, _clip_vision,
                _style_models, _gligen):
    NODE_CLASS_MAPPINGS.update(_module.NODE_CLASS_MAPPINGS)

# ComfyUI's display names, including those of nodes defined elsewhere (comfy_extras), which it keeps here too.
# The trailing space in "ConditioningAverage " is ComfyUI's: that node therefore shows its class name.
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {
    # sampling
    "KSampler": "KSampler",
    "KSamplerAdvanced": "KSampler (Advanced)",
    # loaders
    "CheckpointLoader": "Load Checkpoint With Config (DEPRECATED)",
    "CheckpointLoaderSimple": "Load Checkpoint",
    "VAELoader": "Load VAE",
    "LoraLoader": "Load LoRA",
    "CLIPLoader": "Load CLIP",
    "ControlNetLoader": "Load ControlNet Model",
    "DiffControlNetLoader": "Load ControlNet Model (diff)",
    "StyleModelLoader": "Load Style Model",
    "CLIPVisionLoader": "Load CLIP Vision",
    "UpscaleModelLoader": "Load Upscale Model",
    "UNETLoader": "Load Diffusion Model",
    # conditioning
    "CLIPVisionEncode": "CLIP Vision Encode",
    "StyleModelApply": "Apply Style Model",
    "CLIPTextEncode": "CLIP Text Encode (Prompt)",
    "CLIPSetLastLayer": "CLIP Set Last Layer",
    "ConditioningCombine": "Conditioning (Combine)",
    "ConditioningAverage ": "Conditioning (Average)",
    "ConditioningConcat": "Conditioning (Concat)",
    "ConditioningSetArea": "Conditioning (Set Area)",
    "ConditioningSetAreaPercentage": "Conditioning (Set Area with Percentage)",
    "ConditioningSetMask": "Conditioning (Set Mask)",
    "ControlNetApply": "Apply ControlNet (OLD)",
    "ControlNetApplyAdvanced": "Apply ControlNet",
    # latent
    "VAEEncodeForInpaint": "VAE Encode (for Inpainting)",
    "SetLatentNoiseMask": "Set Latent Noise Mask",
    "VAEDecode": "VAE Decode",
    "VAEEncode": "VAE Encode",
    "LatentRotate": "Rotate Latent",
    "LatentFlip": "Flip Latent",
    "LatentCrop": "Crop Latent",
    "EmptyLatentImage": "Empty Latent Image",
    "LatentUpscale": "Upscale Latent",
    "LatentUpscaleBy": "Upscale Latent By",
    "LatentComposite": "Latent Composite",
    "LatentBlend": "Latent Blend",
    "LatentFromBatch": "Latent From Batch",
    "RepeatLatentBatch": "Repeat Latent Batch",
    # image
    "SaveImage": "Save Image",
    "PreviewImage": "Preview Image",
    "LoadImage": "Load Image",
    "LoadImageMask": "Load Image (as Mask)",
    "LoadImageOutput": "Load Image (from Outputs)",
    "ImageScale": "Upscale Image",
    "ImageScaleBy": "Upscale Image By",
    "ImageUpscaleWithModel": "Upscale Image (using Model)",
    "ImageInvert": "Invert Image",
    "ImagePadForOutpaint": "Pad Image for Outpainting",
    "ImageBatch": "Batch Images",
    "ImageCrop": "Image Crop",
    "ImageStitch": "Image Stitch",
    "ImageBlend": "Image Blend",
    "ImageBlur": "Image Blur",
    "ImageQuantize": "Image Quantize",
    "ImageSharpen": "Image Sharpen",
    "ImageScaleToTotalPixels": "Scale Image to Total Pixels",
    "GetImageSize": "Get Image Size",
    # _for_testing
    "VAEDecodeTiled": "VAE Decode (Tiled)",
    "VAEEncodeTiled": "VAE Encode (Tiled)",
}


# Packs import and subclass the core node classes by name (`from nodes import VAEEncode, LoraLoader`), as they do
# on ComfyUI: every core node registered above is also an attribute of this module, under its registered name.
for _name, _node_class in list(NODE_CLASS_MAPPINGS.items()):
    if _name.isidentifier():
        globals().setdefault(_name, _node_class)


# --- node loading (implemented in comfy_execution.node_loading) ----------------------------------------------


# Each wrapper returns what the loader's function returns (awaitable if the loader's function is async).


def load_custom_node(module_path: str, ignore: set | None = None, module_parent: str = "custom_nodes"):
    """Import one custom node file or package and merge its nodes into the registries."""
    from comfy_execution import node_loading

    return node_loading.load_custom_node(module_path, ignore if ignore is not None else set(), module_parent)


def init_external_custom_nodes():
    """Load every custom node package found in the `custom_nodes` folders."""
    from comfy_execution import node_loading

    return node_loading.init_external_custom_nodes()


def get_module_name(module_path: str) -> str:
    """The name a custom node module is known by: the file name without its extension, or the folder name."""
    from comfy_execution import node_loading

    return node_loading.get_module_name(module_path)


def init_builtin_api_nodes():
    """Load the API node modules (`comfy_api_nodes`); returns the names of those that failed."""
    from comfy_execution import node_loading

    return node_loading.init_builtin_api_nodes()


def init_builtin_extra_nodes():
    """Load the `comfy_extras` node modules."""
    from comfy_execution import node_loading

    return node_loading.init_builtin_extra_nodes()


def init_extra_nodes(init_custom_nodes: bool = True, init_api_nodes: bool = True):
    """Load comfy_extras, then (if asked) API nodes and custom nodes."""
    from comfy_execution import node_loading

    return node_loading.init_extra_nodes(init_custom_nodes=init_custom_nodes, init_api_nodes=init_api_nodes)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln has no unCLIP nodes yet"

init_public_apis = unsupported_function(__name__, 'init_public_apis', '', _REASON)
unCLIPCheckpointLoader = unsupported_class(__name__, 'unCLIPCheckpointLoader', None, _REASON)
unCLIPConditioning = unsupported_class(__name__, 'unCLIPConditioning', None, _REASON)
