"""Image post-processing nodes: blend, blur, sharpen, colour quantisation and resizing to a pixel count.

IMAGE is float32 [B,H,W,C] in 0..1. The nodes are V3 nodes (`comfy_api.latest.io`), as in ComfyUI.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import comfy.model_management
import comfy.utils
import node_helpers
from comfy_api.latest import ComfyExtension, io

BLEND_MODES = ["normal", "multiply", "screen", "overlay", "soft_light", "difference"]
DITHER_MODES = ["none", "floyd-steinberg", "bayer-2", "bayer-4", "bayer-8", "bayer-16"]
CATEGORY = "image/postprocessing"


def gaussian_kernel(kernel_size: int, sigma: float, device: torch.device | str | None = None) -> torch.Tensor:
    """A [kernel_size, kernel_size] Gaussian summing to 1, sampled on a grid spanning -1..1 on each axis (so
    `sigma` is in units of the kernel's half-width, not pixels)."""
    axis = torch.linspace(-1, 1, kernel_size, device=device)
    rows, cols = torch.meshgrid(axis, axis, indexing="ij")
    squared_distance = rows * rows + cols * cols
    weights = torch.exp(-squared_distance / (2.0 * sigma * sigma))
    return weights / weights.sum()


def _convolve_reflect(image: torch.Tensor, kernel: torch.Tensor, radius: int) -> torch.Tensor:
    """Depthwise 2-D convolution of [B,C,H,W] with one [k,k] kernel, reflect-padded by `radius`; same size out.

    The input is reflect-padded and the convolution zero-pads again by the kernel's half-width before the
    border is cut off, which is how ComfyUI computes it (the zero padding never reaches the kept pixels)."""
    channels = image.shape[1]
    weights = kernel.repeat(channels, 1, 1).unsqueeze(1)
    padded = F.pad(image, (radius, radius, radius, radius), "reflect")
    result = F.conv2d(padded, weights, padding=kernel.shape[-1] // 2, groups=channels)
    return result[:, :, radius:-radius, radius:-radius]


class Blend(io.ComfyNode):
    """Blend image2 over image1 with a blend mode; `blend_factor` mixes the blended result with image1."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageBlend", category=CATEGORY,
                         inputs=[io.Image.Input("image1"), io.Image.Input("image2"),
                                 io.Float.Input("blend_factor", default=0.5, min=0.0, max=1.0, step=0.01),
                                 io.Combo.Input("blend_mode", options=BLEND_MODES)],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image1: torch.Tensor, image2: torch.Tensor, blend_factor: float,
                blend_mode: str) -> io.NodeOutput:
        image1, image2 = node_helpers.image_alpha_fix(image1, image2)
        image2 = image2.to(image1.device)
        if image1.shape != image2.shape:
            image2 = comfy.utils.common_upscale(image2.movedim(-1, 1), image1.shape[2], image1.shape[1],
                                                "bicubic", "center").movedim(1, -1)
        blended = cls.blend_mode(image1, image2, blend_mode)
        mixed = image1 * (1 - blend_factor) + blended * blend_factor
        return io.NodeOutput(torch.clamp(mixed, 0, 1))

    @classmethod
    def blend_mode(cls, img1: torch.Tensor, img2: torch.Tensor, mode: str) -> torch.Tensor:
        if mode == "normal":
            return img2
        if mode == "multiply":
            return img1 * img2
        if mode == "screen":
            return 1 - (1 - img1) * (1 - img2)
        if mode == "overlay":
            return torch.where(img1 <= 0.5, 2 * img1 * img2, 1 - 2 * (1 - img1) * (1 - img2))
        if mode == "soft_light":
            darker = img1 - (1 - 2 * img2) * img1 * (1 - img1)
            lighter = img1 + (2 * img2 - 1) * (cls.g(img1) - img1)
            return torch.where(img2 <= 0.5, darker, lighter)
        if mode == "difference":
            return img1 - img2
        raise ValueError(f"ImageBlend: unsupported blend mode {mode!r}; expected one of {BLEND_MODES}")

    @classmethod
    def g(cls, x: torch.Tensor) -> torch.Tensor:
        """The W3C soft-light helper D(x)."""
        return torch.where(x <= 0.25, ((16 * x - 12) * x + 4) * x, torch.sqrt(x))


class Blur(io.ComfyNode):
    """Gaussian blur with a (2·radius+1)² kernel."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageBlur", category=CATEGORY,
                         inputs=[io.Image.Input("image"),
                                 io.Int.Input("blur_radius", default=1, min=1, max=31, step=1),
                                 io.Float.Input("sigma", default=1.0, min=0.1, max=10.0, step=0.1)],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image: torch.Tensor, blur_radius: int, sigma: float) -> io.NodeOutput:
        if blur_radius == 0:
            return io.NodeOutput(image)
        image = image.to(comfy.model_management.get_torch_device())
        kernel = gaussian_kernel(blur_radius * 2 + 1, sigma, device=image.device)
        blurred = _convolve_reflect(image.movedim(-1, 1), kernel, blur_radius).movedim(1, -1)
        return io.NodeOutput(blurred.to(comfy.model_management.intermediate_device()))


def _normalized_bayer_matrix(level: int) -> np.ndarray:
    """The 2^level x 2^level ordered-dither threshold matrix, centred on 0 and scaled to -0.5..0.5."""
    if level == 0:
        return np.zeros((1, 1), "float32")
    size = 4 ** level
    previous = size * _normalized_bayer_matrix(level - 1)
    return np.block([[previous - 1.5, previous + 0.5], [previous + 1.5, previous - 0.5]]) / size


class Quantize(io.ComfyNode):
    """Reduce each image to a palette of `colors` colours (Pillow's median cut), optionally dithered."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageQuantize", category=CATEGORY,
                         inputs=[io.Image.Input("image"), io.Int.Input("colors", default=256, min=1, max=256, step=1),
                                 io.Combo.Input("dither", options=DITHER_MODES)],
                         outputs=[io.Image.Output()])

    @staticmethod
    def bayer(im: Image.Image, pal_im: Image.Image, order: int) -> Image.Image:
        """Ordered dithering: add a tiled Bayer threshold (spread over one palette step) and map to the palette."""
        palette_size = len(pal_im.getpalette()) // 3
        spread = 2 * 256 / palette_size
        threshold = torch.from_numpy(spread * _normalized_bayer_matrix(int(math.log2(order))) + 0.5)
        pixels = torch.from_numpy(np.array(im).astype(np.float32))
        tiles_down = math.ceil(pixels.shape[0] / threshold.shape[0])
        tiles_across = math.ceil(pixels.shape[1] / threshold.shape[1])
        tiled = threshold.tile(tiles_down, tiles_across).unsqueeze(-1)
        pixels.add_(tiled[:pixels.shape[0], :pixels.shape[1]]).clamp_(0, 255)
        dithered = Image.fromarray(pixels.to(dtype=torch.uint8).numpy())
        return dithered.quantize(palette=pal_im, dither=Image.Dither.NONE)

    @classmethod
    def execute(cls, image: torch.Tensor, colors: int, dither: str) -> io.NodeOutput:
        result = torch.zeros_like(image)
        for index in range(image.shape[0]):
            # Truncation to 8 bits (not rounding) is ComfyUI's.
            im = Image.fromarray((image[index] * 255).to(torch.uint8).numpy(), mode="RGB")
            # Quantizing to a palette image first, then onto its palette, is what makes dithering apply
            # (https://github.com/python-pillow/Pillow/issues/5836).
            palette = im.quantize(colors=colors)
            if dither == "none":
                quantized = im.quantize(palette=palette, dither=Image.Dither.NONE)
            elif dither == "floyd-steinberg":
                quantized = im.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
            elif dither.startswith("bayer"):
                quantized = cls.bayer(im, palette, int(dither.split("-")[-1]))
            else:
                raise ValueError(f"ImageQuantize: unknown dither {dither!r}; expected one of {DITHER_MODES}")
            result[index] = torch.tensor(np.array(quantized.convert("RGB"))).float() / 255
        return io.NodeOutput(result)


class Sharpen(io.ComfyNode):
    """Unsharp-style sharpening: subtract `alpha`·10 times a Gaussian of the surroundings from each pixel."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageSharpen", category=CATEGORY,
                         inputs=[io.Image.Input("image"),
                                 io.Int.Input("sharpen_radius", default=1, min=1, max=31, step=1),
                                 io.Float.Input("sigma", default=1.0, min=0.1, max=10.0, step=0.01),
                                 io.Float.Input("alpha", default=1.0, min=0.0, max=5.0, step=0.01)],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image: torch.Tensor, sharpen_radius: int, sigma: float, alpha: float) -> io.NodeOutput:
        if sharpen_radius == 0:
            return io.NodeOutput(image)
        image = image.to(comfy.model_management.get_torch_device())
        kernel = sharpening_kernel(sharpen_radius * 2 + 1, sigma, alpha, image.device).to(image.dtype)
        sharpened = _convolve_reflect(image.movedim(-1, 1), kernel, sharpen_radius).movedim(1, -1)
        return io.NodeOutput(torch.clamp(sharpened, 0, 1).to(comfy.model_management.intermediate_device()))


def sharpening_kernel(kernel_size: int, sigma: float, alpha: float, device: torch.device | str | None = None
                      ) -> torch.Tensor:
    """A kernel that sums to 1: the negated Gaussian scaled by alpha·10, with the centre raised to compensate."""
    kernel = gaussian_kernel(kernel_size, sigma, device=device) * -(alpha * 10)
    center = kernel_size // 2
    kernel[center, center] = kernel[center, center] - kernel.sum() + 1.0
    return kernel


class ImageScaleToTotalPixels(io.ComfyNode):
    """Resize to about `megapixels` × 1024² pixels, keeping the aspect ratio."""

    upscale_methods = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
    crop_methods = ["disabled", "center"]

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageScaleToTotalPixels", category="image/upscaling",
                         inputs=[io.Image.Input("image"), io.Combo.Input("upscale_method", options=cls.upscale_methods),
                                 io.Float.Input("megapixels", default=1.0, min=0.01, max=16.0, step=0.01)],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image: torch.Tensor, upscale_method: str, megapixels: float) -> io.NodeOutput:
        samples = image.movedim(-1, 1)
        total = int(megapixels * 1024 * 1024)
        scale_by = math.sqrt(total / (samples.shape[3] * samples.shape[2]))
        width = round(samples.shape[3] * scale_by)
        height = round(samples.shape[2] * scale_by)
        resized = comfy.utils.common_upscale(samples, width, height, upscale_method, "disabled")
        return io.NodeOutput(resized.movedim(1, -1))


class PostProcessingExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [Blend, Blur, Quantize, Sharpen, ImageScaleToTotalPixels]


async def comfy_entrypoint() -> PostProcessingExtension:
    return PostProcessingExtension()
