"""Weights stored in a narrow dtype (fp8) and cast to the compute dtype at each layer call.

ComfyUI's `UNETLoader` `weight_dtype` option keeps a diffusion model's weights in `float8_e4m3fn` or
`float8_e5m2` to halve their memory, and casts each layer's weight to the compute dtype when the layer runs
("manual cast"). Here the network's `Linear` and `Conv2d` layers get that behaviour in place: their weight and
bias are rounded to the storage dtype once, and their `forward` casts them to the input's dtype per call.
Other parameters (norm scales, positional tables) stay as they are.

ModelComputeDtype runs a network in a dtype other than its weights' (fp16 or bf16 over float32 weights):
`layers_cast_per_call` gives its layers, norms included, the same per-call cast while it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

import comfy.cpu_speedups
import comfy.ops

# UNETLoader's weight_dtype choices -> storage dtype (None: keep the model's dtype). "fp8_e4m3fn_fast" is
# ComfyUI's fp8 matrix-multiply variant; on hardware without fp8 matmuls it behaves as fp8_e4m3fn, as here.
WEIGHT_DTYPES: dict[str, torch.dtype | None] = {
    "default": None,
    "fp8_e4m3fn": torch.float8_e4m3fn,
    "fp8_e4m3fn_fast": torch.float8_e4m3fn,
    "fp8_e5m2": torch.float8_e5m2,
}


# The layers that cast their stored weight and bias to the input's dtype (and device) for each call: ComfyUI's
# `comfy.ops.manual_cast` layers, which packs also subclass.
CastLinear = comfy.ops.manual_cast.Linear
CastConv2d = comfy.ops.manual_cast.Conv2d
CAST_CLASSES = {torch.nn.Linear: CastLinear, torch.nn.Conv2d: CastConv2d}


def weight_dtype_from_option(option: str) -> torch.dtype | None:
    """The storage dtype for a UNETLoader `weight_dtype` choice; ValueError names the valid choices."""
    try:
        return WEIGHT_DTYPES[option]
    except KeyError:
        raise ValueError(f"Unknown weight_dtype {option!r}; expected one of {', '.join(WEIGHT_DTYPES)}") from None


def store_weights_as(network: torch.nn.Module, dtype: torch.dtype, other_dtype: torch.dtype | None = None) -> int:
    """Round every plain `Linear` / `Conv2d` weight and bias of `network` to `dtype`, in place, and make those
    layers cast them back to the input's dtype when they run; the other floating-point parameters and buffers
    go to `other_dtype` (the compute dtype) when given, rounded to `dtype` first when the network sets
    `kiln_weight_dtype_rounds_all_parameters`; a layer marked `kiln_keep_dtype` keeps its own.
    Loading in the file's dtype and calling this keeps the
    peak at about the file's size. Returns the number of layers changed."""
    changed = 0
    # ComfyUI builds every parameter of some models in the weight dtype (its Wan: norms and modulations too), so
    # those are rounded to it before they go to the compute dtype; the network says so (set by its loader).
    round_others = getattr(network, "kiln_weight_dtype_rounds_all_parameters", False)
    for module in network.modules():
        if getattr(module, "kiln_keep_dtype", False):  # a layer its model keeps in its own dtype (Wan's patches)
            continue
        cast_class = CAST_CLASSES.get(type(module))
        if cast_class is not None:
            module.__class__ = cast_class
            changed += 1
        for collection in (module._parameters, module._buffers):
            for name, tensor in collection.items():
                if tensor is None or not tensor.is_floating_point():
                    continue
                target = dtype if cast_class is not None else other_dtype
                if target is None or tensor.dtype == target:
                    continue
                source = tensor.detach()
                if round_others and cast_class is None and collection is module._parameters:
                    source = source.to(dtype)
                cast = source.to(target)
                is_parameter = collection is module._parameters
                collection[name] = torch.nn.Parameter(cast, requires_grad=False) if is_parameter else cast
    return changed


# The layers whose weights can be cast per call, by class: torch's plain layers and Kiln's CPU speed-ups of them
# (whose forward computes the same numbers) -> the `comfy.ops.manual_cast` class that casts.
_PER_CALL_CLASSES: dict[type, type] = {
    torch.nn.Linear: comfy.ops.manual_cast.Linear,
    torch.nn.Conv1d: comfy.ops.manual_cast.Conv1d,
    torch.nn.Conv2d: comfy.ops.manual_cast.Conv2d,
    torch.nn.Conv3d: comfy.ops.manual_cast.Conv3d,
    torch.nn.ConvTranspose1d: comfy.ops.manual_cast.ConvTranspose1d,
    torch.nn.ConvTranspose2d: comfy.ops.manual_cast.ConvTranspose2d,
    torch.nn.GroupNorm: comfy.ops.manual_cast.GroupNorm,
    torch.nn.LayerNorm: comfy.ops.manual_cast.LayerNorm,
}
for _speed_up, _plain in comfy.cpu_speedups.SPEED_UP_CLASSES.items():
    _PER_CALL_CLASSES[_speed_up] = _PER_CALL_CLASSES[_plain]


@contextlib.contextmanager
def layers_cast_per_call(network: torch.nn.Module, dtype: torch.dtype) -> Iterator[None]:
    """Within the block, every layer of `network` whose weight is not stored in `dtype` casts its weight and bias
    to its input's dtype at each call (plain layers become `comfy.ops.manual_cast` ones, `comfy.ops` layers
    switch their cast on); afterwards each layer is as it was. Layers without a weight (a norm without affine
    parameters) and layers of other classes run as they are."""
    switched: list[tuple[torch.nn.Module, type]] = []
    flagged: list[torch.nn.Module] = []
    for module in network.modules():
        weight = getattr(module, "weight", None)
        if not isinstance(weight, torch.Tensor) or weight.dtype == dtype:
            continue
        if isinstance(module, comfy.ops.CastWeightBiasOp):
            if not module.comfy_cast_weights:
                module.comfy_cast_weights = True
                flagged.append(module)
            continue
        cast_class = _PER_CALL_CLASSES.get(type(module))
        if cast_class is not None:
            switched.append((module, type(module)))
            module.__class__ = cast_class
    try:
        yield
    finally:
        for module, original in switched:
            module.__class__ = original
        for module in flagged:
            del module.comfy_cast_weights
