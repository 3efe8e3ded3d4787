"""TomePatchModel: Token Merging for Stable Diffusion (comfy/token_merging.py) on the UNet's full-resolution
self-attentions: the queries are computed on the merged tokens (an attn1 patch) and the attention's output is
spread back over every token (an attn1 output patch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from comfy.token_merging import plan_for_level
from comfy_api.latest import ComfyExtension, io

__all__ = ["TomePatchModel", "TomePatchModelExtension", "comfy_entrypoint", "do_nothing", "get_functions"]


def do_nothing(x: torch.Tensor, mode: str | None = None) -> torch.Tensor:
    return x


def get_functions(x: torch.Tensor, ratio: float, original_shape: list[int]) -> tuple[Callable, Callable]:
    """(merge, unmerge) for a block's tokens `x` (identity below the full resolution), as ComfyUI's module has them."""
    merge_plan = plan_for_level(x, ratio, original_shape)
    if merge_plan is None:
        return do_nothing, do_nothing
    return merge_plan.merge, merge_plan.unmerge


class TomePatchModel(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="TomePatchModel", category="model_patches/unet",
                         inputs=[io.Model.Input("model"),
                                 io.Float.Input("ratio", default=0.3, min=0.0, max=1.0, step=0.01)],
                         outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, ratio: float) -> io.NodeOutput:
        unmerge: Callable = do_nothing  # the plan of the attention being run, from its input patch to its output one

        def merge_queries(n: torch.Tensor, context: torch.Tensor, value: torch.Tensor, extra_options: dict) -> tuple:
            nonlocal unmerge
            merge, unmerge = get_functions(n, ratio, extra_options["original_shape"])
            return merge(n), context, value

        def spread_back(out: torch.Tensor, extra_options: dict) -> torch.Tensor:
            return unmerge(out)

        patched = model.clone()
        patched.set_model_attn1_patch(merge_queries)
        patched.set_model_attn1_output_patch(spread_back)
        return io.NodeOutput(patched)


class TomePatchModelExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [TomePatchModel]


async def comfy_entrypoint() -> TomePatchModelExtension:
    return TomePatchModelExtension()


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "Kiln's token merging keeps ComfyUI's 2x2 random destinations only (comfy/token_merging.py)"

bipartite_soft_matching_random2d = unsupported_function(__name__, 'bipartite_soft_matching_random2d', 'metric, w, h, sx, sy, r, no_rand=', _REASON)
mps_gather_workaround = unsupported_function(__name__, 'mps_gather_workaround', 'input, dim, index', _REASON)
