"""Kohya's Deep Shrink (PatchModelAddDownscale): the UNet's deeper levels run at a reduced size during the early,
composition-setting part of sampling, so that images larger than the model's training size keep a coherent
layout.

An input-block patch (`comfy.unet_blocks`) resizes `h` after input block `block_number` by 1/`downscale_factor`
while the step's sigma lies within the start/end percents, before or after that block's skip connection is kept;
an output-block patch resizes `h` back to the size of the skip connection it is joined to wherever they differ.
"""

from __future__ import annotations

from typing import Any

import torch

import node_helpers
from comfy_api.latest import ComfyExtension, io

__all__ = ["NODE_DISPLAY_NAME_MAPPINGS", "ModelDownscaleExtension", "PatchModelAddDownscale", "comfy_entrypoint"]


class PatchModelAddDownscale(io.ComfyNode):
    UPSCALE_METHODS = ["bicubic", "nearest-exact", "bilinear", "area", "bislerp"]

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="PatchModelAddDownscale",
            display_name="PatchModelAddDownscale (Kohya Deep Shrink)",
            category="model_patches/unet",
            inputs=[
                io.Model.Input("model"),
                io.Int.Input("block_number", default=3, min=1, max=32, step=1),
                io.Float.Input("downscale_factor", default=2.0, min=0.1, max=9.0, step=0.001),
                io.Float.Input("start_percent", default=0.0, min=0.0, max=1.0, step=0.001),
                io.Float.Input("end_percent", default=0.35, min=0.0, max=1.0, step=0.001),
                io.Boolean.Input("downscale_after_skip", default=True),
                io.Combo.Input("downscale_method", options=cls.UPSCALE_METHODS),
                io.Combo.Input("upscale_method", options=cls.UPSCALE_METHODS),
            ],
            outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, block_number: int, downscale_factor: float, start_percent: float,
                end_percent: float, downscale_after_skip: bool, downscale_method: str,
                upscale_method: str) -> io.NodeOutput:
        model_sampling = model.get_model_object("model_sampling")
        sigma_start = model_sampling.percent_to_sigma(start_percent)
        sigma_end = model_sampling.percent_to_sigma(end_percent)

        def shrink(h: torch.Tensor, transformer_options: dict) -> torch.Tensor:
            if transformer_options["block"][1] != block_number:
                return h
            sigma = transformer_options["sigmas"][0].item()
            if not sigma_end <= sigma <= sigma_start:
                return h
            scale = 1.0 / downscale_factor  # ComfyUI's rounding: the size times the reciprocal
            return node_helpers.upscale(h, round(h.shape[-1] * scale), round(h.shape[-2] * scale), downscale_method,
                                        "disabled")

        def restore(h: torch.Tensor, hsp: torch.Tensor, transformer_options: dict) -> tuple:
            if h.shape[2] != hsp.shape[2]:
                h = node_helpers.upscale(h, hsp.shape[-1], hsp.shape[-2], upscale_method, "disabled")
            return h, hsp

        patched = model.clone()
        if downscale_after_skip:
            patched.set_model_input_block_patch_after_skip(shrink)
        else:
            patched.set_model_input_block_patch(shrink)
        patched.set_model_output_block_patch(restore)
        return io.NodeOutput(patched)


# ComfyUI's module has this constant (its V3 loader does not read it; the schema names the node).
NODE_DISPLAY_NAME_MAPPINGS = {"PatchModelAddDownscale": ""}


class ModelDownscaleExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [PatchModelAddDownscale]


async def comfy_entrypoint() -> ModelDownscaleExtension:
    return ModelDownscaleExtension()
