"""Adaptive Projected Guidance (Sadat et al. 2024, "Eliminating Oversaturation and Artifacts of High Guidance
Scales in Diffusion Models", arXiv 2410.02416).

The guidance `cond - uncond` (denoised estimates, `[B, C, H, W]`) is optionally averaged over steps with a
momentum, capped in norm, and split into its part parallel to the conditional estimate and the part orthogonal
to it; the parallel part (which oversaturates) is scaled by `eta`. A `sampler_pre_cfg_function` rewrites the
conditional estimate so that CFG then gives cond + scale · modified guidance.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from comfy_api.latest import ComfyExtension, io

__all__ = ["APG", "ApgExtension", "comfy_entrypoint", "project"]

_LAST_THREE = [-1, -2, -3]


def project(v0: torch.Tensor, v1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`v0` split into its components parallel and orthogonal to `v1`, per sample over the last three dimensions;
    computed in float64, returned in `v0`'s dtype."""
    dtype, device = v0.dtype, v0.device
    if device.type == "mps":  # no float64 there
        v0, v1 = v0.cpu(), v1.cpu()
    v0, v1 = v0.double(), v1.double()
    direction = F.normalize(v1, dim=_LAST_THREE)
    parallel = (v0 * direction).sum(dim=_LAST_THREE, keepdim=True) * direction
    orthogonal = v0 - parallel
    return parallel.to(dtype).to(device), orthogonal.to(dtype).to(device)


class APG(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="APG",
            display_name="Adaptive Projected Guidance",
            category="sampling/custom_sampling",
            inputs=[
                io.Model.Input("model"),
                io.Float.Input("eta", default=1.0, min=-10.0, max=10.0, step=0.01,
                               tooltip="Controls the scale of the parallel guidance vector. Default CFG behavior "
                                       "at a setting of 1."),
                io.Float.Input("norm_threshold", default=5.0, min=0.0, max=50.0, step=0.1,
                               tooltip="Normalize guidance vector to this value, normalization disable at a "
                                       "setting of 0."),
                io.Float.Input("momentum", default=0.0, min=-5.0, max=1.0, step=0.01,
                               tooltip="Controls a running average of guidance during diffusion, disabled at a "
                                       "setting of 0."),
            ],
            outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, eta: float, norm_threshold: float, momentum: float) -> io.NodeOutput:
        running_average: torch.Tensor | None = None
        previous_sigma = None

        def adaptive_projected_guidance(args: dict) -> list:
            nonlocal running_average, previous_sigma
            conds_out = args["conds_out"]
            if len(conds_out) == 1:
                return conds_out
            cond, uncond = conds_out[0], conds_out[1]
            sigma = args["sigma"][0]
            if previous_sigma is not None and sigma > previous_sigma:
                running_average = None  # a new sampling run: the average starts again
            previous_sigma = sigma

            guidance = cond - uncond
            if momentum != 0:
                running_average = guidance if running_average is None else momentum * running_average + guidance
                guidance = running_average
            if norm_threshold > 0:
                guidance_norm = guidance.norm(p=2, dim=_LAST_THREE, keepdim=True)
                guidance = guidance * torch.minimum(torch.ones_like(guidance_norm), norm_threshold / guidance_norm)
            parallel, orthogonal = project(guidance, cond)
            modified_guidance = orthogonal + eta * parallel
            # CFG then gives uncond + scale * (modified_cond - uncond) = cond + scale * modified_guidance
            modified_cond = (uncond + modified_guidance) + (cond - uncond) / args["cond_scale"]
            return [modified_cond, uncond] + list(conds_out[2:])

        patched = model.clone()
        patched.set_model_sampler_pre_cfg_function(adaptive_projected_guidance)
        return io.NodeOutput(patched)


class ApgExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [APG]


async def comfy_entrypoint() -> ApgExtension:
    return ApgExtension()
