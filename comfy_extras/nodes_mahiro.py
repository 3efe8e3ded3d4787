"""Mahiro guidance: after CFG, lean the guided estimate towards the positive prompt's own direction, the more so
the less the (sign-preserving square-rooted) unconditional leap agrees with the guided one.

A `sampler_post_cfg_function` on a clone of the model; estimates are `[B, C, H, W]` denoised latents.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from comfy_api.latest import ComfyExtension, io

__all__ = ["Mahiro", "MahiroExtension", "comfy_entrypoint"]


def _signed_sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x.abs()) * x.sign()


def mahiro_guidance(args: dict) -> torch.Tensor:
    """The post-CFG estimate: a blend of the CFG result and the scaled conditional estimate, weighted by the
    mean cosine similarity (over channels) of the unconditional leap and the CFG/leap average."""
    scale = args["cond_scale"]
    cond_denoised, uncond_denoised = args["cond_denoised"], args["uncond_denoised"]
    leap = cond_denoised * scale
    uncond_leap = uncond_denoised * scale
    cfg = uncond_denoised + scale * (cond_denoised - uncond_denoised)
    merge = (leap + cfg) / 2
    similarity = F.cosine_similarity(_signed_sqrt(uncond_leap), _signed_sqrt(merge)).mean()
    weight = 2 * (similarity + 1)  # in [0, 4]
    return (weight * cfg + (4 - weight) * leap) / 4


class Mahiro(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="Mahiro",
            display_name="Mahiro is so cute that she deserves a better guidance function!! (。・ω・。)",
            category="_for_testing",
            description="Modify the guidance to scale more on the 'direction' of the positive prompt rather than "
                        "the difference between the negative prompt.",
            inputs=[io.Model.Input("model")],
            outputs=[io.Model.Output(display_name="patched_model")],
            is_experimental=True)

    @classmethod
    def execute(cls, model: Any) -> io.NodeOutput:
        patched = model.clone()
        patched.set_model_sampler_post_cfg_function(mahiro_guidance)
        return io.NodeOutput(patched)


class MahiroExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [Mahiro]


async def comfy_entrypoint() -> MahiroExtension:
    return MahiroExtension()
