"""Latent arithmetic and batching: add, subtract, multiply, interpolate, concatenate, cut, batch, seed behaviour,
and latent operations (tonemap, sharpen) applied to a latent or inside CFG.

LATENT is {"samples": [B,C,H,W] (or [B,C,T,H,W] for video), optional "batch_index", "noise_mask", ...}; other keys
of the first input are kept. A LATENT_OPERATION is a function `operation(latent=tensor) -> tensor`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

import comfy.utils
import nodes
from comfy_api.latest import ComfyExtension, io
from comfy_extras.nodes_post_processing import sharpening_kernel

LatentOperation = Callable[..., torch.Tensor]


def reshape_latent_to(target_shape: torch.Size, latent: torch.Tensor, repeat_batch: bool = True) -> torch.Tensor:
    """`latent` resized (bilinear, centre crop) to the target's spatial size if it differs, and repeated or cut to
    its batch size (unless repeat_batch is False)."""
    if latent.shape[1:] != target_shape[1:]:
        latent = comfy.utils.common_upscale(latent, target_shape[-1], target_shape[-2], "bilinear", "center")
    if repeat_batch:
        return comfy.utils.repeat_to_batch_size(latent, target_shape[0])
    return latent


def _latent_node(node_id: str, inputs: list, category: str = "latent/advanced", output: type = io.Latent,
                 experimental: bool = False) -> io.Schema:
    return io.Schema(node_id=node_id, category=category, inputs=inputs, outputs=[output.Output()],
                     is_experimental=experimental)


class LatentAdd(io.ComfyNode):
    """samples1 + samples2 (samples2 resized and batched to samples1)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentAdd", [io.Latent.Input("samples1"), io.Latent.Input("samples2")])

    @classmethod
    def execute(cls, samples1: dict, samples2: dict) -> io.NodeOutput:
        first = samples1["samples"]
        return io.NodeOutput({**samples1, "samples": first + reshape_latent_to(first.shape, samples2["samples"])})


class LatentSubtract(io.ComfyNode):
    """samples1 − samples2 (samples2 resized and batched to samples1)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentSubtract", [io.Latent.Input("samples1"), io.Latent.Input("samples2")])

    @classmethod
    def execute(cls, samples1: dict, samples2: dict) -> io.NodeOutput:
        first = samples1["samples"]
        return io.NodeOutput({**samples1, "samples": first - reshape_latent_to(first.shape, samples2["samples"])})


class LatentMultiply(io.ComfyNode):
    """samples × multiplier."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentMultiply", [
            io.Latent.Input("samples"), io.Float.Input("multiplier", default=1.0, min=-10.0, max=10.0, step=0.01)])

    @classmethod
    def execute(cls, samples: dict, multiplier: float) -> io.NodeOutput:
        return io.NodeOutput({**samples, "samples": samples["samples"] * multiplier})


class LatentInterpolate(io.ComfyNode):
    """Interpolate direction and length separately: the per-pixel channel vectors are normalised, mixed by
    `ratio` (1 = samples1), renormalised, and given the mixed length."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentInterpolate", [
            io.Latent.Input("samples1"), io.Latent.Input("samples2"),
            io.Float.Input("ratio", default=1.0, min=0.0, max=1.0, step=0.01)])

    @classmethod
    def execute(cls, samples1: dict, samples2: dict, ratio: float) -> io.NodeOutput:
        first = samples1["samples"]
        second = reshape_latent_to(first.shape, samples2["samples"])
        # The norms keep no channel dimension, so they broadcast against the trailing dimensions (ComfyUI's
        # arithmetic, which is exact for [B,C,H,W] only when it lines up; kept for identical results).
        length1 = torch.linalg.vector_norm(first, dim=1)
        length2 = torch.linalg.vector_norm(second, dim=1)
        direction = torch.nan_to_num(first / length1) * ratio + torch.nan_to_num(second / length2) * (1.0 - ratio)
        mixed_direction = torch.nan_to_num(direction / torch.linalg.vector_norm(direction, dim=1))
        return io.NodeOutput({**samples1, "samples": mixed_direction * (length1 * ratio + length2 * (1.0 - ratio))})


class LatentConcat(io.ComfyNode):
    """Join two latents along x, y or t; a leading "-" puts samples2 first."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentConcat", [
            io.Latent.Input("samples1"), io.Latent.Input("samples2"),
            io.Combo.Input("dim", options=["x", "-x", "y", "-y", "t", "-t"])])

    @classmethod
    def execute(cls, samples1: dict, samples2: dict, dim: str) -> io.NodeOutput:
        first = samples1["samples"]
        second = comfy.utils.repeat_to_batch_size(samples2["samples"], first.shape[0])
        parts = (second, first) if "-" in dim else (first, second)
        axis = {"x": -1, "y": -2, "t": -3}[dim.lstrip("-")]
        return io.NodeOutput({**samples1, "samples": torch.cat(parts, dim=axis)})


class LatentCut(io.ComfyNode):
    """`amount` slices along x, y or t from `index` (negative counts from the end), clipped to the latent."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentCut", [
            io.Latent.Input("samples"), io.Combo.Input("dim", options=["x", "y", "t"]),
            io.Int.Input("index", default=0, min=-nodes.MAX_RESOLUTION, max=nodes.MAX_RESOLUTION, step=1),
            io.Int.Input("amount", default=1, min=1, max=nodes.MAX_RESOLUTION, step=1)])

    @classmethod
    def execute(cls, samples: dict, dim: str, index: int, amount: int) -> io.NodeOutput:
        latent = samples["samples"]
        axis = latent.ndim - {"x": 1, "y": 2, "t": 3}[dim]
        size = latent.shape[axis]
        if index >= 0:
            index = min(index, size - 1)
            amount = min(size - index, amount)
        else:
            index = max(index, -size)
            amount = min(-index, amount)
        return io.NodeOutput({**samples, "samples": torch.narrow(latent, axis, index, amount)})


class LatentBatch(io.ComfyNode):
    """samples2 appended to the batch of samples1 (resized to it); batch indices are concatenated."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentBatch", [io.Latent.Input("samples1"), io.Latent.Input("samples2")],
                            category="latent/batch")

    @classmethod
    def execute(cls, samples1: dict, samples2: dict) -> io.NodeOutput:
        first = samples1["samples"]
        second = reshape_latent_to(first.shape, samples2["samples"], repeat_batch=False)
        batch_index = (samples1.get("batch_index", list(range(first.shape[0])))
                       + samples2.get("batch_index", list(range(second.shape[0]))))
        return io.NodeOutput({**samples1, "samples": torch.cat((first, second), dim=0), "batch_index": batch_index})


class LatentBatchSeedBehavior(io.ComfyNode):
    """"fixed": every latent of the batch gets the first one's noise; "random": each its own (the index is
    dropped)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentBatchSeedBehavior", [
            io.Latent.Input("samples"), io.Combo.Input("seed_behavior", options=["random", "fixed"], default="fixed")])

    @classmethod
    def execute(cls, samples: dict, seed_behavior: str) -> io.NodeOutput:
        result = samples.copy()
        if seed_behavior == "random":
            result.pop("batch_index", None)
        elif seed_behavior == "fixed":
            first_index = result.get("batch_index", [0])[0]
            result["batch_index"] = [first_index] * samples["samples"].shape[0]
        return io.NodeOutput(result)


OPERATIONS = "latent/advanced/operations"


class LatentApplyOperation(io.ComfyNode):
    """Apply a LATENT_OPERATION to the samples."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentApplyOperation", [io.Latent.Input("samples"),
                                                     io.LatentOperation.Input("operation")],
                            category=OPERATIONS, experimental=True)

    @classmethod
    def execute(cls, samples: dict, operation: LatentOperation) -> io.NodeOutput:
        return io.NodeOutput({**samples, "samples": operation(latent=samples["samples"])})


class LatentApplyOperationCFG(io.ComfyNode):
    """Apply a LATENT_OPERATION inside CFG, before the guidance is combined: to cond − uncond (then uncond is added
    back), or to the conditional prediction alone when there is no unconditional one."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentApplyOperationCFG", [io.Model.Input("model"),
                                                        io.LatentOperation.Input("operation")],
                            category=OPERATIONS, output=io.Model, experimental=True)

    @classmethod
    def execute(cls, model, operation: LatentOperation) -> io.NodeOutput:
        patched = model.clone()

        def pre_cfg_function(args: dict) -> list:
            conds_out = args["conds_out"]
            if len(conds_out) == 2:
                conds_out[0] = operation(latent=(conds_out[0] - conds_out[1])) + conds_out[1]
            else:
                conds_out[0] = operation(latent=conds_out[0])
            return conds_out

        patched.set_model_sampler_pre_cfg_function(pre_cfg_function)
        return io.NodeOutput(patched)


class LatentOperationTonemapReinhard(io.ComfyNode):
    """An operation that compresses the per-pixel channel-vector length with Reinhard's x / (x + 1), scaled so
    that mean + 5 std of the lengths (× multiplier) maps to 1."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentOperationTonemapReinhard",
                            [io.Float.Input("multiplier", default=1.0, min=0.0, max=100.0, step=0.01)],
                            category=OPERATIONS, output=io.LatentOperation, experimental=True)

    @classmethod
    def execute(cls, multiplier: float) -> io.NodeOutput:
        def tonemap_reinhard(latent: torch.Tensor, **kwargs) -> torch.Tensor:
            length = (torch.linalg.vector_norm(latent, dim=1) + 0.0000000001)[:, None]
            direction = latent / length
            mean = torch.mean(length, dim=(1, 2, 3), keepdim=True)
            std = torch.std(length, dim=(1, 2, 3), keepdim=True)
            top = (std * 5 + mean) * multiplier
            scaled = length * (1.0 / top)
            return direction * (scaled / (scaled + 1.0) * top)

        return io.NodeOutput(tonemap_reinhard)


class LatentOperationSharpen(io.ComfyNode):
    """An operation that sharpens the direction of the per-pixel channel vectors, keeping their lengths."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _latent_node("LatentOperationSharpen", [
            io.Int.Input("sharpen_radius", default=9, min=1, max=31, step=1),
            io.Float.Input("sigma", default=1.0, min=0.1, max=10.0, step=0.1),
            io.Float.Input("alpha", default=0.1, min=0.0, max=5.0, step=0.01)],
            category=OPERATIONS, output=io.LatentOperation, experimental=True)

    @classmethod
    def execute(cls, sharpen_radius: int, sigma: float, alpha: float) -> io.NodeOutput:
        def sharpen(latent: torch.Tensor, **kwargs) -> torch.Tensor:
            luminance = (torch.linalg.vector_norm(latent, dim=1) + 1e-6)[:, None]
            direction = latent / luminance
            channels = latent.shape[1]
            kernel_size = sharpen_radius * 2 + 1
            kernel = sharpening_kernel(kernel_size, sigma, alpha, luminance.device)
            padded = torch.nn.functional.pad(direction, (sharpen_radius,) * 4, "reflect")
            sharpened = torch.nn.functional.conv2d(padded, kernel.repeat(channels, 1, 1).unsqueeze(1),
                                                   padding=kernel_size // 2, groups=channels)
            return luminance * sharpened[:, :, sharpen_radius:-sharpen_radius, sharpen_radius:-sharpen_radius]

        return io.NodeOutput(sharpen)


class LatentExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [LatentAdd, LatentSubtract, LatentMultiply, LatentInterpolate, LatentConcat, LatentCut, LatentBatch,
                LatentBatchSeedBehavior, LatentApplyOperation, LatentApplyOperationCFG,
                LatentOperationTonemapReinhard, LatentOperationSharpen]


async def comfy_entrypoint() -> LatentExtension:
    return LatentExtension()
