"""Epsilon Scaling (Ning et al. 2023, "Elucidating the Exposure Bias in Diffusion Models", arXiv 2308.15321): the
guided noise prediction is divided by `scaling_factor` at every step, countering the exposure bias that makes a
sampler's inputs noisier than those seen in training.

A `sampler_post_cfg_function` on a clone of the model; estimates are `[B, C, H, W]` denoised latents.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy_api.latest import ComfyExtension, io

__all__ = ["EpsilonScaling", "EpsilonScalingExtension", "comfy_entrypoint"]


class EpsilonScaling(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="Epsilon Scaling",
            category="model_patches/unet",
            inputs=[
                io.Model.Input("model"),
                io.Float.Input("scaling_factor", default=1.005, min=0.5, max=1.5, step=0.001,
                               display_mode=io.NumberDisplay.number),
            ],
            outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, scaling_factor: float) -> io.NodeOutput:
        def epsilon_scaling(args: dict) -> torch.Tensor:
            x = args["input"]
            noise_prediction = x - args["denoised"]
            return x - noise_prediction / scaling_factor

        patched = model.clone()
        patched.set_model_sampler_post_cfg_function(epsilon_scaling)
        return io.NodeOutput(patched)


class EpsilonScalingExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [EpsilonScaling]


async def comfy_entrypoint() -> EpsilonScalingExtension:
    return EpsilonScalingExtension()
