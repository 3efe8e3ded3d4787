"""Differential Diffusion (Levin & Fried, "Differential Diffusion: Giving Each Pixel Its Strength", 2023): an
inpainting mask whose grey levels say how much each pixel may change.

The node makes the model's denoise mask a function of the step: at each sigma a pixel is denoised only while the
sampling progress (in timesteps, from the schedule's first sigma to its last, or to the model's smallest) has not
passed its mask value, so lighter mask regions change over more steps. `strength` < 1 blends that binary mask
with the original soft one.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy_api.latest import ComfyExtension, io


class DifferentialDiffusion(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="DifferentialDiffusion", display_name="Differential Diffusion",
                         category="_for_testing",
                         inputs=[io.Model.Input("model"),
                                 io.Float.Input("strength", default=1.0, min=0.0, max=1.0, step=0.01, optional=True)],
                         outputs=[io.Model.Output()], is_experimental=True)

    @classmethod
    def execute(cls, model: Any, strength: float = 1.0) -> io.NodeOutput:
        model = model.clone()
        model.set_model_denoise_mask_function(
            lambda sigma, denoise_mask, extra_options: cls.forward(sigma, denoise_mask, extra_options, strength))
        return io.NodeOutput(model)

    @classmethod
    def forward(cls, sigma: torch.Tensor, denoise_mask: torch.Tensor, extra_options: dict,
                strength: float) -> torch.Tensor:
        """The mask for the step at `sigma`: 1 where `denoise_mask` is at least the step's progress threshold."""
        model_sampling = extra_options["model"].inner_model.model_sampling
        step_sigmas = extra_options["sigmas"]
        last_sigma = max(step_sigmas[-1], model_sampling.sigma_min)
        first = model_sampling.timestep(step_sigmas[0])
        last = model_sampling.timestep(last_sigma)
        threshold = (model_sampling.timestep(sigma[0]) - last) / (first - last)
        binary = (denoise_mask >= threshold).to(denoise_mask.dtype)
        if strength and strength < 1:
            return strength * binary + (1 - strength) * denoise_mask
        return binary


class DifferentialDiffusionExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [DifferentialDiffusion]


async def comfy_entrypoint() -> DifferentialDiffusionExtension:
    return DifferentialDiffusionExtension()
