"""Guidance rescaling after CFG: CFG-Zero* (Fan et al. 2025, arXiv 2503.18886) and CFGNorm.

Both are `sampler_post_cfg_function`s on a clone of the model: they see the guided denoised estimate and the
conditional and unconditional ones (all `[B, C, H, W]`, in model space) and return a new guided estimate.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy_api.latest import ComfyExtension, io

__all__ = ["CFGNorm", "CFGZeroStar", "CfgExtension", "comfy_entrypoint", "optimized_scale"]


def optimized_scale(positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Per sample, the scale s* minimising |positive - s·negative|² (CFG-Zero*'s optimised scale):
    <positive, negative> / |negative|², shaped `[B, 1, ...]` to broadcast against the inputs."""
    batch = positive.shape[0]
    positive_flat = positive.reshape(batch, -1)
    negative_flat = negative.reshape(batch, -1)
    dot = torch.sum(positive_flat * negative_flat, dim=1, keepdim=True)
    squared_norm = torch.sum(negative_flat ** 2, dim=1, keepdim=True) + 1e-8
    return (dot / squared_norm).reshape([batch] + [1] * (positive.ndim - 1))


class CFGZeroStar(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="CFGZeroStar", category="advanced/guidance",
                         inputs=[io.Model.Input("model")],
                         outputs=[io.Model.Output(display_name="patched_model")])

    @classmethod
    def execute(cls, model: Any) -> io.NodeOutput:
        patched = model.clone()

        def cfg_zero_star(args: dict) -> torch.Tensor:
            guidance_scale = args["cond_scale"]
            x = args["input"]
            cond_denoised, uncond_denoised = args["cond_denoised"], args["uncond_denoised"]
            # the unconditional estimate is replaced by its projection onto the conditional one (in noise space)
            alpha = optimized_scale(x - cond_denoised, x - uncond_denoised)
            return args["denoised"] + uncond_denoised * (alpha - 1.0) + guidance_scale * uncond_denoised * (1.0 - alpha)

        patched.set_model_sampler_post_cfg_function(cfg_zero_star)
        return io.NodeOutput(patched)


class CFGNorm(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="CFGNorm", category="advanced/guidance",
                         inputs=[io.Model.Input("model"),
                                 io.Float.Input("strength", default=1.0, min=0.0, max=100.0, step=0.01)],
                         outputs=[io.Model.Output(display_name="patched_model")], is_experimental=True)

    @classmethod
    def execute(cls, model: Any, strength: float) -> io.NodeOutput:
        patched = model.clone()

        def cfg_norm(args: dict) -> torch.Tensor:
            guided = args["denoised"]
            # per pixel, the guided estimate's channel norm is capped at the conditional estimate's
            cond_norm = torch.norm(args["cond_denoised"], dim=1, keepdim=True)
            guided_norm = torch.norm(guided, dim=1, keepdim=True)
            scale = (cond_norm / (guided_norm + 1e-8)).clamp(min=0.0, max=1.0)
            return guided * scale * strength

        patched.set_model_sampler_post_cfg_function(cfg_norm)
        return io.NodeOutput(patched)


class CfgExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [CFGZeroStar, CFGNorm]


async def comfy_entrypoint() -> CfgExtension:
    return CfgExtension()
