"""InstructPix2Pix conditioning: the picture to edit, encoded by the VAE, rides on both conditionings as
`concat_latent_image` (an instruct-pix2pix model concatenates it to its input, `comfy.model_base.IP2P`), and the
sampler starts from an all-zero latent of its size."""

from __future__ import annotations

import torch

from comfy_api.latest import ComfyExtension, io

__all__ = ["InstructPix2PixExtension", "InstructPixToPixConditioning", "comfy_entrypoint"]


def _crop_to_multiple_of_8(pixels: torch.Tensor) -> torch.Tensor:
    """IMAGE [B, H, W, C] cut to the largest multiple of 8 in height and width, the surplus split around it."""
    height, width = pixels.shape[1] // 8 * 8, pixels.shape[2] // 8 * 8
    top, left = (pixels.shape[1] % 8) // 2, (pixels.shape[2] % 8) // 2
    return pixels[:, top:top + height, left:left + width, :]


class InstructPixToPixConditioning(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="InstructPixToPixConditioning",
            category="conditioning/instructpix2pix",
            inputs=[io.Conditioning.Input("positive"), io.Conditioning.Input("negative"), io.Vae.Input("vae"),
                    io.Image.Input("pixels")],
            outputs=[io.Conditioning.Output(display_name="positive"), io.Conditioning.Output(display_name="negative"),
                     io.Latent.Output(display_name="latent")],
        )

    @classmethod
    def execute(cls, positive, negative, pixels, vae) -> io.NodeOutput:
        image_latent = vae.encode(_crop_to_multiple_of_8(pixels))
        with_image = [[[text, {**options, "concat_latent_image": image_latent}] for text, options in conditioning]
                      for conditioning in (positive, negative)]
        return io.NodeOutput(with_image[0], with_image[1], {"samples": torch.zeros_like(image_latent)})


class InstructPix2PixExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [InstructPixToPixConditioning]


async def comfy_entrypoint() -> InstructPix2PixExtension:
    return InstructPix2PixExtension()
