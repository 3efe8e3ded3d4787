"""Grey-scale morphology on images (erode, dilate, open, close, gradient, top/bottom hat) and RGB <-> YCbCr.

The results are those of kornia's `kornia.morphology` with a flat square structuring element and its default
geodesic border (pixels outside the image take no part), and of `kornia.color`'s YCbCr conversions, computed
here with max-pooling and plain arithmetic so that Kiln needs no kornia.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import comfy.model_management
from comfy_api.latest import ComfyExtension, io

OPERATIONS = ["erode", "dilate", "open", "close", "gradient", "bottom_hat", "top_hat"]


def _max_filter(image: torch.Tensor, size: int, before: int) -> torch.Tensor:
    """Max over a size x size window starting `before` pixels above/left of each pixel of [B,C,H,W]; pixels
    outside the image are ignored."""
    after = size - before - 1
    padded = F.pad(image, (before, after, before, after), value=-float("inf"))
    return F.max_pool2d(padded, size, stride=1)


def dilate(image: torch.Tensor, size: int) -> torch.Tensor:
    """Flat dilation of [B,C,H,W]. For an even size the window reaches one pixel further up/left than down/right
    (the structuring element is mirrored about its origin at size // 2)."""
    return _max_filter(image, size, size - size // 2 - 1)


def erode(image: torch.Tensor, size: int) -> torch.Tensor:
    """Flat erosion of [B,C,H,W]; for an even size the window reaches one pixel further down/right."""
    return -_max_filter(-image, size, size // 2)


def morphology(image: torch.Tensor, operation: str, size: int) -> torch.Tensor:
    """One of OPERATIONS on [B,C,H,W] with a size x size square."""
    if operation == "erode":
        return erode(image, size)
    if operation == "dilate":
        return dilate(image, size)
    if operation == "open":
        return dilate(erode(image, size), size)
    if operation == "close":
        return erode(dilate(image, size), size)
    if operation == "gradient":
        return dilate(image, size) - erode(image, size)
    if operation == "top_hat":
        return image - dilate(erode(image, size), size)
    if operation == "bottom_hat":
        return erode(dilate(image, size), size) - image
    raise ValueError(f"Invalid operation {operation} for morphology. Must be one of {', '.join(OPERATIONS)}")


def rgb_to_ycbcr(image: torch.Tensor) -> torch.Tensor:
    """[..., 3, H, W] RGB in 0..1 to Y, Cb, Cr (chroma centred on 0.5)."""
    red, green, blue = image[..., 0, :, :], image[..., 1, :, :], image[..., 2, :, :]
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    chroma_blue = (blue - luma) * 0.564 + 0.5
    chroma_red = (red - luma) * 0.713 + 0.5
    return torch.stack([luma, chroma_blue, chroma_red], -3)


def ycbcr_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """The exact inverse of `rgb_to_ycbcr`, clamped to 0..1."""
    luma = image[..., 0, :, :]
    chroma_blue = image[..., 1, :, :] - 0.5
    chroma_red = image[..., 2, :, :] - 0.5
    red = luma + 1.4025245442 * chroma_red
    green = luma - 0.7144034731 * chroma_red - 0.3443401356 * chroma_blue
    blue = luma + 1.7730496454 * chroma_blue
    return torch.stack([red, green, blue], -3).clamp(0, 1)


class Morphology(io.ComfyNode):
    """Morphological operation with a kernel_size x kernel_size square on every channel."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="Morphology", display_name="ImageMorphology", category="image/postprocessing",
                         inputs=[io.Image.Input("image"), io.Combo.Input("operation", options=OPERATIONS),
                                 io.Int.Input("kernel_size", default=3, min=3, max=999, step=1)],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image: torch.Tensor, operation: str, kernel_size: int) -> io.NodeOutput:
        device = comfy.model_management.get_torch_device()
        result = morphology(image.to(device).movedim(-1, 1), operation, kernel_size)
        return io.NodeOutput(result.to(comfy.model_management.intermediate_device()).movedim(1, -1))


class ImageRGBToYUV(io.ComfyNode):
    """Split an RGB image into Y, U (Cb) and V (Cr) planes, each as a grey 3-channel image."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageRGBToYUV", category="image/batch", inputs=[io.Image.Input("image")],
                         outputs=[io.Image.Output(display_name=name) for name in ("Y", "U", "V")])

    @classmethod
    def execute(cls, image: torch.Tensor) -> io.NodeOutput:
        planes = rgb_to_ycbcr(image.movedim(-1, 1)).movedim(1, -1)
        return io.NodeOutput(*(planes[..., index:index + 1].expand_as(image) for index in range(3)))


class ImageYUVToRGB(io.ComfyNode):
    """Join Y, U and V images (each averaged over its channels) back into RGB."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageYUVToRGB", category="image/batch",
                         inputs=[io.Image.Input(name) for name in ("Y", "U", "V")], outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, Y: torch.Tensor, U: torch.Tensor, V: torch.Tensor) -> io.NodeOutput:  # noqa: N803
        planes = torch.cat([plane.mean(dim=-1, keepdim=True) for plane in (Y, U, V)], dim=-1)
        return io.NodeOutput(ycbcr_to_rgb(planes.movedim(-1, 1)).movedim(1, -1))


class MorphologyExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [Morphology, ImageRGBToYUV, ImageYUVToRGB]


async def comfy_entrypoint() -> MorphologyExtension:
    return MorphologyExtension()
