"""Skip Layer Guidance for DiT models (SD3's MMDiT, FLUX.1), as ComfyUI has it.

A prediction is made with some of the transformer's blocks skipped (ComfyUI's "dit" block replacements with a
function that answers its inputs, comfy/dit_blocks.py), and guidance moves away from it, in the spirit of
Perturbed-Attention Guidance. Layers are given as text; every run of digits in it is a block number.

- SkipLayerGuidanceDiT: after CFG, while sigma lies in [sigma(end_percent), sigma(start_percent)], the
  conditional prediction is made once more with the blocks skipped, and the result becomes
  denoised + scale · (cond - skipped); `rescaling_scale` then blends in a rescale of the result to the standard
  deviation of the conditional prediction.
- SkipLayerGuidanceDiTSimple: inside that sigma range the unconditional prediction itself is made with the blocks
  skipped (the conditional one as usual); no extra model call.
"""

from __future__ import annotations

import re
from typing import Any

import torch

import comfy.model_patcher
import comfy.samplers
from comfy_api.latest import ComfyExtension, io

__all__ = ["SkipLayerGuidanceDiT", "SkipLayerGuidanceDiTSimple", "SkipLayerGuidanceExtension", "comfy_entrypoint",
           "skip_blocks"]

CATEGORY = "advanced/guidance"


def _skip(args: dict, extra_args: dict) -> dict:
    """A block replacement that leaves the block out: its inputs are its output."""
    return args


def _layer_numbers(text: str) -> list[int]:
    return [int(number) for number in re.findall(r"\d+", text)]


def skip_blocks(model_options: dict, double_layers: list[int], single_layers: list[int]) -> dict:
    """A copy of `model_options` that skips those double- and single-stream blocks."""
    for kind, layers in (("double_block", double_layers), ("single_block", single_layers)):
        for layer in layers:
            model_options = comfy.model_patcher.set_model_options_patch_replace(model_options, _skip, "dit", kind,
                                                                                layer)
    return model_options


def _sigma_range(model: Any, start_percent: float, end_percent: float) -> tuple[float, float]:
    """(lowest, highest) sigma of the steps the guidance applies to."""
    model_sampling = model.get_model_object("model_sampling")
    return model_sampling.percent_to_sigma(end_percent), model_sampling.percent_to_sigma(start_percent)


class SkipLayerGuidanceDiT(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="SkipLayerGuidanceDiT", category=CATEGORY,
                         description="Generic version of SkipLayerGuidance node that can be used on every DiT model.",
                         is_experimental=True,
                         inputs=[io.Model.Input("model"),
                                 io.String.Input("double_layers", default="7, 8, 9"),
                                 io.String.Input("single_layers", default="7, 8, 9"),
                                 io.Float.Input("scale", default=3.0, min=0.0, max=10.0, step=0.1),
                                 io.Float.Input("start_percent", default=0.01, min=0.0, max=1.0, step=0.001),
                                 io.Float.Input("end_percent", default=0.15, min=0.0, max=1.0, step=0.001),
                                 io.Float.Input("rescaling_scale", default=0.0, min=0.0, max=10.0, step=0.01)],
                         outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, scale: float, start_percent: float, end_percent: float, double_layers: str = "",
                single_layers: str = "", rescaling_scale: float = 0.0) -> io.NodeOutput:
        doubles, singles = _layer_numbers(double_layers), _layer_numbers(single_layers)
        if not doubles and not singles:
            return io.NodeOutput(model)
        lowest, highest = _sigma_range(model, start_percent, end_percent)

        def guide_away_from_skipped(args: dict) -> torch.Tensor:
            denoised = args["denoised"]
            if scale <= 0 or not lowest <= args["sigma"][0].item() <= highest:
                return denoised
            model_options = skip_blocks(args["model_options"].copy(), doubles, singles)
            (skipped,) = comfy.samplers.calc_cond_batch(args["model"], [args["cond"]], args["input"], args["sigma"],
                                                        model_options)
            guided = denoised + (args["cond_denoised"] - skipped) * scale
            if rescaling_scale != 0:
                factor = args["cond_denoised"].std() / guided.std()
                guided = guided * (rescaling_scale * factor + (1 - rescaling_scale))
            return guided

        patched = model.clone()
        patched.set_model_sampler_post_cfg_function(guide_away_from_skipped)
        return io.NodeOutput(patched)

    skip_guidance = execute  # ComfyUI's classic method name


class SkipLayerGuidanceDiTSimple(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="SkipLayerGuidanceDiTSimple", category=CATEGORY,
                         description="Simple version of the SkipLayerGuidanceDiT node that only modifies the uncond "
                                     "pass.",
                         is_experimental=True,
                         inputs=[io.Model.Input("model"),
                                 io.String.Input("double_layers", default="7, 8, 9"),
                                 io.String.Input("single_layers", default="7, 8, 9"),
                                 io.Float.Input("start_percent", default=0.0, min=0.0, max=1.0, step=0.001),
                                 io.Float.Input("end_percent", default=1.0, min=0.0, max=1.0, step=0.001)],
                         outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, start_percent: float, end_percent: float, double_layers: str = "",
                single_layers: str = "") -> io.NodeOutput:
        doubles, singles = _layer_numbers(double_layers), _layer_numbers(single_layers)
        if not doubles and not singles:
            return io.NodeOutput(model)
        lowest, highest = _sigma_range(model, start_percent, end_percent)

        def uncond_with_blocks_skipped(args: dict) -> list:
            model, x, sigma, model_options = args["model"], args["input"], args["sigma"], args["model_options"]
            cond, uncond = args["conds"]
            if uncond is None or not lowest <= sigma[0].item() <= highest:
                return comfy.samplers.calc_cond_batch(model, args["conds"], x, sigma, model_options)
            cond_out, _ = comfy.samplers.calc_cond_batch(model, [cond, None], x, sigma, model_options)
            _, uncond_out = comfy.samplers.calc_cond_batch(model, [None, uncond], x, sigma,
                                                           skip_blocks(model_options.copy(), doubles, singles))
            return [cond_out, uncond_out]

        patched = model.clone()
        patched.set_model_sampler_calc_cond_batch_function(uncond_with_blocks_skipped)
        return io.NodeOutput(patched)

    skip_guidance = execute  # ComfyUI's classic method name


class SkipLayerGuidanceExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [SkipLayerGuidanceDiT, SkipLayerGuidanceDiTSimple]


async def comfy_entrypoint() -> SkipLayerGuidanceExtension:
    return SkipLayerGuidanceExtension()
