"""Perp-Neg (Armandpour et al. 2023, "Re-imagine the Negative Prompt Algorithm", arXiv 2304.04968): a negative
prompt whose guidance keeps only its part perpendicular to the positive prompt's, both taken relative to an empty
prompt, so that it removes a concept without fighting the positive prompt.

PerpNegGuider is a GUIDER running the three passes (positive, negative, empty) in one batch; PerpNeg, the older
form, patches a MODEL's CFG function and runs the empty pass on its own. Estimates are `[B, C, H, W]` denoised
latents.
"""

from __future__ import annotations

import math
from typing import Any

import torch

import comfy.samplers
from comfy_api.latest import ComfyExtension, io

__all__ = ["Guider_PerpNeg", "PerpNeg", "PerpNegExtension", "PerpNegGuider", "comfy_entrypoint", "perp_neg"]


def perp_neg(x: torch.Tensor, noise_pred_pos: torch.Tensor, noise_pred_neg: torch.Tensor,
             noise_pred_nocond: torch.Tensor, neg_scale: float, cond_scale: float) -> torch.Tensor:
    """The guided estimate: empty + cond_scale · (pos' - neg_scale · neg'⊥), where pos' and neg' are the positive
    and negative estimates minus the empty one and neg'⊥ is neg' minus its projection on pos' (one projection over
    the whole batch). `x` is unused; it is part of ComfyUI's signature."""
    positive = noise_pred_pos - noise_pred_nocond
    negative = noise_pred_neg - noise_pred_nocond
    perpendicular = negative - (torch.mul(negative, positive).sum() / (torch.norm(positive) ** 2)) * positive
    return noise_pred_nocond + cond_scale * (positive - perpendicular * neg_scale)


class PerpNeg(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="PerpNeg",
            display_name="Perp-Neg (DEPRECATED by PerpNegGuider)",
            category="_for_testing",
            inputs=[
                io.Model.Input("model"),
                io.Conditioning.Input("empty_conditioning"),
                io.Float.Input("neg_scale", default=1.0, min=0.0, max=100.0, step=0.01),
            ],
            outputs=[io.Model.Output()],
            is_experimental=True,
            is_deprecated=True)

    @classmethod
    def execute(cls, model: Any, empty_conditioning: list, neg_scale: float) -> io.NodeOutput:
        empty = comfy.samplers.convert_cond(empty_conditioning)

        def perp_neg_cfg(args: dict) -> torch.Tensor:
            inner_model, x, sigma = args["model"], args["input"], args["sigma"]
            encoded = [dict(entry) for entry in empty]
            comfy.samplers.encode_model_conds(inner_model.extra_conds, encoded, x, x.device, "negative")
            (noise_pred_nocond,) = comfy.samplers.calc_cond_batch(inner_model, [encoded], x, sigma,
                                                                  args["model_options"])
            guided = perp_neg(x, args["cond_denoised"], args["uncond_denoised"], noise_pred_nocond, neg_scale,
                              args["cond_scale"])
            return x - guided  # a sampler_cfg_function answers in noise space

        patched = model.clone()
        patched.set_model_sampler_cfg_function(perp_neg_cfg)
        return io.NodeOutput(patched)


class Guider_PerpNeg(comfy.samplers.CFGGuider):  # noqa: N801 - ComfyUI's name
    """CFG with Perp-Neg: `set_conds(positive, negative, empty_negative_prompt)`, `set_cfg(cfg, neg_scale)`."""

    def set_conds(self, positive, negative, empty_negative_prompt) -> None:  # type: ignore[override]
        self.inner_set_conds({"positive": positive, "empty_negative_prompt": empty_negative_prompt,
                              "negative": negative})

    def set_cfg(self, cfg: float, neg_scale: float) -> None:  # type: ignore[override]
        self.cfg = cfg
        self.neg_scale = neg_scale

    def predict_noise(self, x, timestep, model_options=None, seed=None):
        model_options = model_options or {}
        positive = self.conds.get("positive")
        negative = self.conds.get("negative")
        empty = self.conds.get("empty_negative_prompt")
        if not model_options.get("disable_cfg1_optimization", False) and math.isclose(self.neg_scale, 0.0):
            negative = None  # it has no effect
            if math.isclose(self.cfg, 1.0):
                empty = None
        conds = [positive, negative, empty]
        out = comfy.samplers.calc_cond_batch(self.inner_model, conds, x, timestep, model_options)
        # sampling_function is bypassed, so its pre- and post-CFG hooks are run here
        for function in model_options.get("sampler_pre_cfg_function", []):
            out = function({"conds": conds, "conds_out": out, "cond_scale": self.cfg, "timestep": timestep,
                            "input": x, "sigma": timestep, "model": self.inner_model, "model_options": model_options})
        noise_pred_pos, noise_pred_neg, noise_pred_empty = out
        guided = perp_neg(x, noise_pred_pos, noise_pred_neg, noise_pred_empty, self.neg_scale, self.cfg)
        for function in model_options.get("sampler_post_cfg_function", []):
            guided = function({"denoised": guided, "cond": positive, "uncond": negative, "cond_scale": self.cfg,
                               "model": self.inner_model, "uncond_denoised": noise_pred_neg,
                               "cond_denoised": noise_pred_pos, "sigma": timestep, "model_options": model_options,
                               "input": x})
        return guided


class PerpNegGuider(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="PerpNegGuider",
            category="_for_testing",
            inputs=[
                io.Model.Input("model"),
                io.Conditioning.Input("positive"),
                io.Conditioning.Input("negative"),
                io.Conditioning.Input("empty_conditioning"),
                io.Float.Input("cfg", default=8.0, min=0.0, max=100.0, step=0.1, round=0.01),
                io.Float.Input("neg_scale", default=1.0, min=0.0, max=100.0, step=0.01),
            ],
            outputs=[io.Guider.Output()],
            is_experimental=True)

    @classmethod
    def execute(cls, model: Any, positive: list, negative: list, empty_conditioning: list, cfg: float,
                neg_scale: float) -> io.NodeOutput:
        guider = Guider_PerpNeg(model)
        guider.set_conds(positive, negative, empty_conditioning)
        guider.set_cfg(cfg, neg_scale)
        return io.NodeOutput(guider)


class PerpNegExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [PerpNeg, PerpNegGuider]


async def comfy_entrypoint() -> PerpNegExtension:
    return PerpNegExtension()
