"""Perturbed-Attention Guidance (Ahn et al. 2024, "Self-Rectifying Diffusion Sampling with Perturbed-Attention
Guidance", arXiv 2403.17377), in ComfyUI's simplified form.

After CFG, the conditional pass is run once more with the self-attention of the UNet's middle block replaced by
the identity attention map (each token's output is its own value), and the guided estimate moves away from
that perturbed prediction: denoised + scale · (cond - perturbed).
"""

from __future__ import annotations

from typing import Any

import torch

import comfy.model_patcher
import comfy.samplers
from comfy_api.latest import ComfyExtension, io

__all__ = ["PAGExtension", "PerturbedAttentionGuidance", "comfy_entrypoint"]

# The UNet block whose self-attention is perturbed: ComfyUI's ("middle", 0).
_BLOCK = ("middle", 0)


def _identity_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict,
                        mask: torch.Tensor | None = None) -> torch.Tensor:
    """Self-attention whose map is the identity: the values, unchanged."""
    return v


class PerturbedAttentionGuidance(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="PerturbedAttentionGuidance", category="model_patches/unet",
                         inputs=[io.Model.Input("model"),
                                 io.Float.Input("scale", default=3.0, min=0.0, max=100.0, step=0.01, round=0.01)],
                         outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, scale: float) -> io.NodeOutput:
        def guide_away_from_perturbed(args: dict) -> torch.Tensor:
            denoised = args["denoised"]
            if scale == 0:
                return denoised
            model_options = comfy.model_patcher.set_model_options_patch_replace(
                args["model_options"].copy(), _identity_attention, "attn1", *_BLOCK)
            (perturbed,) = comfy.samplers.calc_cond_batch(args["model"], [args["cond"]], args["input"],
                                                          args["sigma"], model_options)
            return denoised + (args["cond_denoised"] - perturbed) * scale

        patched = model.clone()
        patched.set_model_sampler_post_cfg_function(guide_away_from_perturbed)
        return io.NodeOutput(patched)


class PAGExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [PerturbedAttentionGuidance]


async def comfy_entrypoint() -> PAGExtension:
    return PAGExtension()
