"""HyperTile (tfernd, github.com/tfernd/HyperTile): self-attention of the UNet's high-resolution layers computed in
tiles, which is cheaper on large images.

An `attn1_patch` splits the queries `[B, H·W, C]` of the layers at the latent's full resolution (and, with
`max_depth`, of those 2, 4, ... times smaller) into nh × nw tiles along the batch, `[B·nh·nw, (H/nh)·(W/nw), C]`;
the keys and values stay whole, so each tile attends to its own consecutive slice of the key tokens (how
`optimized_attention` views keys of a smaller batch). An `attn1_output_patch` puts the tiles back in place.
The number of tiles per side is drawn from torch's global generator among the `swap_size` largest ones whose
tiles are at least `tile_size / 8` latent pixels, so it follows the sampler's seed (`comfy.sample.prepare_noise`
seeds that generator) and changes from layer to layer and step to step.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from comfy_api.latest import ComfyExtension, io

__all__ = ["HyperTile", "HyperTileExtension", "comfy_entrypoint", "random_divisor"]


def random_divisor(value: int, min_value: int, /, max_options: int = 1) -> int:
    """`value // d` for a divisor d of `value` that is at least `min_value` (or `value`, when smaller), chosen by
    torch's global generator among the `max_options` smallest such divisors; the draw, `randint(0, options-1)`,
    never picks the last option, and is skipped when there is only one."""
    smallest = min(min_value, value)
    divisors = [candidate for candidate in range(smallest, value + 1) if value % candidate == 0]
    counts = [value // divisor for divisor in divisors[:max_options]]
    index = 0
    if len(counts) > 1:
        index = int(torch.randint(low=0, high=len(counts) - 1, size=(1,)).item())
    return counts[index]


def _tile(x: torch.Tensor, rows: int, columns: int, height: int, width: int) -> torch.Tensor:
    """`[B, height·width, C]` tokens (row-major) as `[B·rows·columns, (height/rows)·(width/columns), C]` tiles."""
    batch, _, channels = x.shape
    x = x.reshape(batch, rows, height // rows, columns, width // columns, channels).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(batch * rows * columns, (height // rows) * (width // columns), channels)


def _untile(x: torch.Tensor, rows: int, columns: int, height: int, width: int) -> torch.Tensor:
    """The inverse of `_tile`."""
    tiles, _, channels = x.shape
    batch = tiles // (rows * columns)
    x = x.reshape(batch, rows, columns, height // rows, width // columns, channels).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(batch, height * width, channels)


class HyperTile(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="HyperTile", category="model_patches/unet",
                         inputs=[io.Model.Input("model"),
                                 io.Int.Input("tile_size", default=256, min=1, max=2048),
                                 io.Int.Input("swap_size", default=2, min=1, max=128),
                                 io.Int.Input("max_depth", default=0, min=0, max=10),
                                 io.Boolean.Input("scale_depth", default=False)],
                         outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model: Any, tile_size: int, swap_size: int, max_depth: int,
                scale_depth: bool) -> io.NodeOutput:
        latent_tile_size = max(32, tile_size) // 8
        # (rows, columns, height, width) of the tiling the last attn1_patch made, for the output patch to undo
        pending: tuple[int, int, int, int] | None = None

        def tile_queries(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict) -> tuple:
            nonlocal pending
            latent_shape = extra_options["original_shape"]
            tokens = q.shape[-2]
            # token counts of the resolutions tiled: the latent's, then halved per side down to max_depth
            depths = [(latent_shape[-2] / 2 ** depth) * (latent_shape[-1] / 2 ** depth)
                      for depth in range(max_depth + 1)]
            if tokens not in depths:
                return q, k, v
            aspect_ratio = latent_shape[-1] / latent_shape[-2]
            height = round(math.sqrt(tokens * aspect_ratio))
            width = round(math.sqrt(tokens / aspect_ratio))
            factor = 2 ** depths.index(tokens) if scale_depth else 1
            rows = random_divisor(height, latent_tile_size * factor, swap_size)
            columns = random_divisor(width, latent_tile_size * factor, swap_size)
            if rows * columns > 1:
                q = _tile(q, rows, columns, height, width)
                pending = (rows, columns, height, width)
            return q, k, v

        def untile_output(out: torch.Tensor, extra_options: dict) -> torch.Tensor:
            nonlocal pending
            if pending is not None:
                out = _untile(out, *pending)
                pending = None
            return out

        patched = model.clone()
        patched.set_model_attn1_patch(tile_queries)
        patched.set_model_attn1_output_patch(untile_output)
        return io.NodeOutput(patched)


class HyperTileExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [HyperTile]


async def comfy_entrypoint() -> HyperTileExtension:
    return HyperTileExtension()
