"""Tangential Damping CFG (Kwon et al. 2025, arXiv 2503.18137): before CFG, the unconditional score is reduced to
its component along the first right singular vector of the [uncond; cond] score matrix, dropping the tangential
part that pulls away from the conditional one.

A `sampler_pre_cfg_function` on a clone of the model; scores are `x - denoised`, `[B, C, H, W]`.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy_api.latest import ComfyExtension, io

__all__ = ["TCFG", "TcfgExtension", "comfy_entrypoint", "score_tangential_damping"]


def score_tangential_damping(cond_score: torch.Tensor, uncond_score: torch.Tensor) -> torch.Tensor:
    """`uncond_score` projected, per sample, onto the principal direction of the pair (cond, uncond); same shape
    and dtype as `uncond_score`. Computed in float32."""
    batch = cond_score.shape[0]
    cond_flat = cond_score.reshape(batch, 1, -1).float()
    uncond_flat = uncond_score.reshape(batch, 1, -1).float()
    score_matrix = torch.cat((uncond_flat, cond_flat), dim=1)  # [B, 2, N]
    try:
        _, _, right_vectors = torch.linalg.svd(score_matrix, full_matrices=False)
    except RuntimeError:  # some backends lack an SVD kernel
        _, _, right_vectors = torch.linalg.svd(score_matrix.cpu(), full_matrices=False)
    principal = right_vectors[:, 0:1, :].to(uncond_flat.device)  # [B, 1, N]
    damped = (uncond_flat @ principal.transpose(-2, -1)) * principal
    return damped.reshape_as(uncond_score).to(uncond_score.dtype)


def tangential_damping_cfg(args: dict) -> list:
    """The pre-CFG function: the unconditional estimate replaced by its tangentially damped one."""
    x = args["input"]
    conds_out = args["conds_out"]
    if len(conds_out) <= 1 or None in args["conds"][:2]:
        return conds_out
    cond_denoised, uncond_denoised = conds_out[0], conds_out[1]
    damped_score = score_tangential_damping(x - cond_denoised, x - uncond_denoised)
    return [cond_denoised, x - damped_score] + list(conds_out[2:])


class TCFG(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="TCFG",
            display_name="Tangential Damping CFG",
            category="advanced/guidance",
            description="TCFG – Tangential Damping CFG (2503.18137)\n\nRefine the uncond (negative) to align with "
                        "the cond (positive) for improving quality.",
            inputs=[io.Model.Input("model")],
            outputs=[io.Model.Output(display_name="patched_model")])

    @classmethod
    def execute(cls, model: Any) -> io.NodeOutput:
        patched = model.clone()
        patched.set_model_sampler_pre_cfg_function(tangential_damping_cfg)
        return io.NodeOutput(patched)


class TcfgExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [TCFG]


async def comfy_entrypoint() -> TcfgExtension:
    return TcfgExtension()
