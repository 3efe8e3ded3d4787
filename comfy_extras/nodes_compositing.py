"""Alpha compositing: Porter-Duff operators on images with MASK alphas, and splitting/joining an alpha channel.

A MASK here is the inverse of alpha (1 = transparent), as LoadImage gives it.
"""

from __future__ import annotations

from enum import Enum

import torch

import comfy.utils
from comfy_api.latest import ComfyExtension, io

CATEGORY = "mask/compositing"


def resize_mask(mask: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Masks resized bilinearly to shape[0] x shape[1]; [B,H,W] out."""
    batch = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
    return torch.nn.functional.interpolate(batch, size=(shape[0], shape[1]), mode="bilinear").squeeze(1)


class PorterDuffMode(Enum):
    ADD = 0
    CLEAR = 1
    DARKEN = 2
    DST = 3
    DST_ATOP = 4
    DST_IN = 5
    DST_OUT = 6
    DST_OVER = 7
    LIGHTEN = 8
    MULTIPLY = 9
    OVERLAY = 10
    SCREEN = 11
    SRC = 12
    SRC_ATOP = 13
    SRC_IN = 14
    SRC_OUT = 15
    SRC_OVER = 16
    XOR = 17


def _premultiplied_composite(src: torch.Tensor, src_alpha: torch.Tensor, dst: torch.Tensor, dst_alpha: torch.Tensor,
                             mode: PorterDuffMode) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(colour, alpha) of `mode` on premultiplied colours; None for a mode without a formula."""
    union_alpha = src_alpha + dst_alpha - src_alpha * dst_alpha
    formulas = {
        PorterDuffMode.ADD: lambda: (torch.clamp(src + dst, 0, 1), torch.clamp(src_alpha + dst_alpha, 0, 1)),
        PorterDuffMode.CLEAR: lambda: (torch.zeros_like(dst), torch.zeros_like(dst_alpha)),
        PorterDuffMode.DARKEN: lambda: ((1 - dst_alpha) * src + (1 - src_alpha) * dst + torch.min(src, dst),
                                        union_alpha),
        PorterDuffMode.DST: lambda: (dst, dst_alpha),
        PorterDuffMode.DST_ATOP: lambda: (src_alpha * dst + (1 - dst_alpha) * src, src_alpha),
        PorterDuffMode.DST_IN: lambda: (dst * src_alpha, src_alpha * dst_alpha),
        PorterDuffMode.DST_OUT: lambda: ((1 - src_alpha) * dst, (1 - src_alpha) * dst_alpha),
        PorterDuffMode.DST_OVER: lambda: (dst + (1 - dst_alpha) * src, dst_alpha + (1 - dst_alpha) * src_alpha),
        PorterDuffMode.LIGHTEN: lambda: ((1 - dst_alpha) * src + (1 - src_alpha) * dst + torch.max(src, dst),
                                         union_alpha),
        PorterDuffMode.MULTIPLY: lambda: (src * dst, src_alpha * dst_alpha),
        PorterDuffMode.OVERLAY: lambda: (torch.where(2 * dst < dst_alpha, 2 * src * dst,
                                                     src_alpha * dst_alpha - 2 * (dst_alpha - src) * (src_alpha - dst)),
                                         union_alpha),
        PorterDuffMode.SCREEN: lambda: (src + dst - src * dst, union_alpha),
        PorterDuffMode.SRC: lambda: (src, src_alpha),
        PorterDuffMode.SRC_ATOP: lambda: (dst_alpha * src + (1 - src_alpha) * dst, dst_alpha),
        PorterDuffMode.SRC_IN: lambda: (src * dst_alpha, src_alpha * dst_alpha),
        PorterDuffMode.SRC_OUT: lambda: ((1 - dst_alpha) * src, (1 - dst_alpha) * src_alpha),
        PorterDuffMode.SRC_OVER: lambda: (src + (1 - src_alpha) * dst, src_alpha + (1 - src_alpha) * dst_alpha),
        PorterDuffMode.XOR: lambda: ((1 - dst_alpha) * src + (1 - src_alpha) * dst,
                                     (1 - dst_alpha) * src_alpha + (1 - src_alpha) * dst_alpha),
    }
    formula = formulas.get(mode)
    return formula() if formula is not None else None


def porter_duff_composite(src_image: torch.Tensor, src_alpha: torch.Tensor, dst_image: torch.Tensor,
                          dst_alpha: torch.Tensor, mode: PorterDuffMode
                          ) -> tuple[torch.Tensor, torch.Tensor] | tuple[None, None]:
    """Composite one [H,W,C] image pair whose alphas are given as masks [H,W,1]; (image, mask) out."""
    src_alpha, dst_alpha = 1 - src_alpha, 1 - dst_alpha
    result = _premultiplied_composite(src_image * src_alpha, src_alpha, dst_image * dst_alpha, dst_alpha, mode)
    if result is None:
        return None, None
    out_image, out_alpha = result
    out_image = torch.where(out_alpha > 1e-5, out_image / out_alpha, torch.zeros_like(out_image))
    return torch.clamp(out_image, 0, 1), 1 - out_alpha


def _resized_like(tensor: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """One [H,W,C] tensor resized (bicubic, centre crop) to height x width."""
    batch = tensor.unsqueeze(0).permute(0, 3, 1, 2)
    return comfy.utils.common_upscale(batch, width, height, "bicubic", "center").permute(0, 2, 3, 1).squeeze(0)


class PorterDuffImageComposite(io.ComfyNode):
    """Composite source over destination with a Porter-Duff operator; the result's alpha comes out as a mask."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="PorterDuffImageComposite", display_name="Porter-Duff Image Composite", category=CATEGORY,
            inputs=[io.Image.Input("source"), io.Mask.Input("source_alpha"), io.Image.Input("destination"),
                    io.Mask.Input("destination_alpha"),
                    io.Combo.Input("mode", options=[mode.name for mode in PorterDuffMode],
                                   default=PorterDuffMode.DST.name)],
            outputs=[io.Image.Output(), io.Mask.Output()])

    @classmethod
    def execute(cls, source: torch.Tensor, source_alpha: torch.Tensor, destination: torch.Tensor,
                destination_alpha: torch.Tensor, mode: str) -> io.NodeOutput:
        batch = min(len(source), len(source_alpha), len(destination), len(destination_alpha))
        images, alphas = [], []
        for index in range(batch):
            src_image, dst_image = source[index], destination[index]
            if src_image.shape[2] != dst_image.shape[2]:
                raise ValueError("PorterDuffImageComposite: source and destination need the same number of "
                                 f"channels, got {src_image.shape[2]} and {dst_image.shape[2]}")
            src_alpha = source_alpha[index].unsqueeze(2)
            dst_alpha = destination_alpha[index].unsqueeze(2)
            height, width = dst_image.shape[0], dst_image.shape[1]
            if dst_alpha.shape[:2] != dst_image.shape[:2]:
                dst_alpha = _resized_like(dst_alpha, height, width)
            if src_image.shape != dst_image.shape:
                src_image = _resized_like(src_image, height, width)
            if src_alpha.shape != dst_alpha.shape:
                src_alpha = _resized_like(src_alpha, dst_alpha.shape[0], dst_alpha.shape[1])
            out_image, out_alpha = porter_duff_composite(src_image, src_alpha, dst_image, dst_alpha,
                                                         PorterDuffMode[mode])
            images.append(out_image)
            alphas.append(out_alpha.squeeze(2))
        return io.NodeOutput(torch.stack(images), torch.stack(alphas))


class SplitImageWithAlpha(io.ComfyNode):
    """RGB of an image and its alpha as a mask (1 − alpha; all 0 for an image without alpha)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="SplitImageWithAlpha", display_name="Split Image with Alpha", category=CATEGORY,
                         inputs=[io.Image.Input("image")], outputs=[io.Image.Output(), io.Mask.Output()])

    @classmethod
    def execute(cls, image: torch.Tensor) -> io.NodeOutput:
        colours = [single[:, :, :3] for single in image]
        alphas = [single[:, :, 3] if single.shape[2] > 3 else torch.ones_like(single[:, :, 0]) for single in image]
        return io.NodeOutput(torch.stack(colours), 1.0 - torch.stack(alphas))


class JoinImageWithAlpha(io.ComfyNode):
    """RGBA from an image and a mask (alpha = 1 − mask, resized to the image)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="JoinImageWithAlpha", display_name="Join Image with Alpha", category=CATEGORY,
                         inputs=[io.Image.Input("image"), io.Mask.Input("alpha")], outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image: torch.Tensor, alpha: torch.Tensor) -> io.NodeOutput:
        batch = min(len(image), len(alpha))
        opacity = 1.0 - resize_mask(alpha, image.shape[1:])
        joined = [torch.cat((image[index][:, :, :3], opacity[index].unsqueeze(2)), dim=2) for index in range(batch)]
        return io.NodeOutput(torch.stack(joined))


class CompositingExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [PorterDuffImageComposite, SplitImageWithAlpha, JoinImageWithAlpha]


async def comfy_entrypoint() -> CompositingExtension:
    return CompositingExtension()
