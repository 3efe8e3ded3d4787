"""Rebatch nodes: regroup a list of image or latent batches into batches of a chosen size.

Both take the whole input list at once (`is_input_list`) and return a list (`is_output_list`), so the nodes
downstream run once per new batch.
"""

from __future__ import annotations

import torch

from comfy_api.latest import ComfyExtension, io


class ImageRebatch(io.ComfyNode):
    """Split every incoming image batch into single images and regroup them into batches of `batch_size`
    (the last one may be smaller)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="RebatchImages", display_name="Rebatch Images", category="image/batch",
                         is_input_list=True,
                         inputs=[io.Image.Input("images"), io.Int.Input("batch_size", default=1, min=1, max=4096)],
                         outputs=[io.Image.Output(is_output_list=True)])

    @classmethod
    def execute(cls, images: list[torch.Tensor], batch_size: list[int]) -> io.NodeOutput:
        size = batch_size[0]
        singles = [batch[index:index + 1] for batch in images for index in range(batch.shape[0])]
        return io.NodeOutput([torch.cat(singles[start:start + size], dim=0)
                              for start in range(0, len(singles), size)])


class _LatentGroup:
    """Latent rows of one spatial size collected for the next output batch."""

    def __init__(self):
        self.samples: list[torch.Tensor] = []
        self.masks: list[torch.Tensor | None] = []
        self.indices: list[int] = []

    def spatial_size(self) -> tuple[int, ...] | None:
        return tuple(self.samples[0].shape[2:]) if self.samples else None

    def to_latent(self) -> dict:
        samples = torch.cat(self.samples, dim=0)
        latent = {"samples": samples, "batch_index": list(self.indices)}
        if any(mask is not None for mask in self.masks):
            shape = next(mask for mask in self.masks if mask is not None).shape
            filled = [mask if mask is not None else torch.ones(shape) for mask in self.masks]
            latent["noise_mask"] = torch.cat(filled, dim=0)
        return latent


def _noise_mask_rows(latent: dict) -> list[torch.Tensor | None]:
    """The latent's noise mask as one [1,1,8h,8w] row per sample (pixel resolution), or Nones."""
    samples = latent["samples"]
    count = samples.shape[0]
    if "noise_mask" not in latent:
        return [None] * count
    mask = latent["noise_mask"]
    mask = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])).float()
    size = (samples.shape[-2] * 8, samples.shape[-1] * 8)
    if tuple(mask.shape[-2:]) != size:
        mask = torch.nn.functional.interpolate(mask, size=size, mode="bilinear")
    if mask.shape[0] < count:
        mask = mask.repeat(((count - 1) // mask.shape[0] + 1, 1, 1, 1))
    return [mask[index:index + 1] for index in range(count)]


class LatentRebatch(io.ComfyNode):
    """Regroup latent batches into batches of `batch_size`. Latents of different sizes are never mixed: a size
    change ends the current batch. Each output carries "batch_index" (so seeds per sample are kept) and a
    "noise_mask" when any of its samples had one."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="RebatchLatents", display_name="Rebatch Latents", category="latent/batch",
                         is_input_list=True,
                         inputs=[io.Latent.Input("latents"), io.Int.Input("batch_size", default=1, min=1, max=4096)],
                         outputs=[io.Latent.Output(is_output_list=True)])

    @classmethod
    def execute(cls, latents: list[dict], batch_size: list[int]) -> io.NodeOutput:
        size = batch_size[0]
        outputs: list[dict] = []
        group = _LatentGroup()
        processed = 0
        for latent in latents:
            samples = latent["samples"]
            indices = latent.get("batch_index") or [processed + index for index in range(samples.shape[0])]
            processed += samples.shape[0]
            for index, mask in enumerate(_noise_mask_rows(latent)):
                row = samples[index:index + 1]
                if group.samples and (group.spatial_size() != tuple(row.shape[2:]) or len(group.samples) == size):
                    outputs.append(group.to_latent())
                    group = _LatentGroup()
                group.samples.append(row)
                group.masks.append(mask)
                group.indices.append(indices[index])
        if group.samples:
            outputs.append(group.to_latent())
        return io.NodeOutput(outputs)


class RebatchExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [LatentRebatch, ImageRebatch]


async def comfy_entrypoint() -> RebatchExtension:
    return RebatchExtension()
