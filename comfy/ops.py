"""ComfyUI's layer operations (`comfy.ops`): torch layers that can cast their weights per call.

A set of operations is a class whose attributes are layer classes (`Linear`, `Conv2d`, `GroupNorm`, ...):
- `disable_weight_init`: the torch layers without their random initialisation (weights are loaded next), which
  run as torch's unless a weight or bias function is attached;
- `manual_cast`: the same layers that cast their weight and bias to the input's dtype and device on every call,
  so weights can be stored narrower (fp8, or a pack's own quantised tensors) than the compute dtype.

Packs subclass these (ComfyUI-GGUF's `GGMLOps(comfy.ops.manual_cast)` dequantises its tensors in
`forward_comfy_cast_weights`) and pass them to a loader as `model_options["custom_operations"]`; Kiln then builds
its diffusers network with these classes in place of torch's plain layers (`replace_layers`), so the pack's
layers compute the model. Kiln's own fp8 weight storage (`comfy.manual_cast`) uses `manual_cast` too.
"""

from __future__ import annotations

from typing import Any

import torch

import comfy.model_management
import comfy.rmsnorm

# ComfyUI's fast fp16 matrix multiplications need the optional `cublas_ops` package, which Kiln does not use.
CUBLAS_IS_AVAILABLE = False

cast_to = comfy.model_management.cast_to


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *args: Any,
                                 **kwargs: Any) -> torch.Tensor:
    """torch's `scaled_dot_product_attention` (its own choice of kernel)."""
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, *args, **kwargs)


def cast_to_input(weight: torch.Tensor, input: torch.Tensor, non_blocking: bool = False,  # noqa: A002
                  copy: bool = True) -> torch.Tensor:
    """`weight` in the dtype and on the device of `input`."""
    return comfy.model_management.cast_to(weight, input.dtype, input.device, non_blocking=non_blocking, copy=copy)


def cast_bias_weight(s: Any, input: torch.Tensor | None = None, dtype: torch.dtype | None = None,  # noqa: A002
                     device: Any = None, bias_dtype: torch.dtype | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(weight, bias) of layer `s` cast to `dtype` / `bias_dtype` on `device` (by default the input's), each then
    passed through the layer's `weight_function` / `bias_function` list (LoRA-like patches applied per call)."""
    if input is not None:
        dtype = input.dtype if dtype is None else dtype
        bias_dtype = dtype if bias_dtype is None else bias_dtype
        device = input.device if device is None else device
    non_blocking = comfy.model_management.device_supports_non_blocking(device)
    bias = None
    if s.bias is not None:
        bias = comfy.model_management.cast_to(s.bias, bias_dtype, device, non_blocking=non_blocking,
                                              copy=bool(s.bias_function))
        for function in s.bias_function:
            bias = function(bias)
    weight = comfy.model_management.cast_to(s.weight, dtype, device, non_blocking=non_blocking,
                                            copy=bool(s.weight_function))
    for function in s.weight_function:
        weight = function(weight)
    return weight, bias


class CastWeightBiasOp:
    """What every operation layer carries: whether it casts its weights per call, and the functions applied to
    the cast weight and bias (empty by default)."""

    comfy_cast_weights = False
    weight_function: list = []
    bias_function: list = []


class _CastingLayer(CastWeightBiasOp):
    """No random initialisation (the weights are loaded afterwards); `forward` casts through
    `forward_comfy_cast_weights` when asked to or when functions are attached, else runs torch's layer."""

    def reset_parameters(self) -> None:
        return None

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self.comfy_cast_weights or self.weight_function or self.bias_function:
            return self.forward_comfy_cast_weights(*args, **kwargs)
        return super().forward(*args, **kwargs)


class disable_weight_init:  # noqa: N801 - ComfyUI's name
    """torch's layers without weight initialisation; they cast per call only with weight/bias functions."""

    class Linear(_CastingLayer, torch.nn.Linear):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
            weight, bias = cast_bias_weight(self, input)
            return torch.nn.functional.linear(input, weight, bias)

    class Conv1d(_CastingLayer, torch.nn.Conv1d):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
            weight, bias = cast_bias_weight(self, input)
            return self._conv_forward(input, weight, bias)

    class Conv2d(_CastingLayer, torch.nn.Conv2d):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
            weight, bias = cast_bias_weight(self, input)
            return self._conv_forward(input, weight, bias)

    class Conv3d(_CastingLayer, torch.nn.Conv3d):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
            weight, bias = cast_bias_weight(self, input)
            return self._conv_forward(input, weight, bias)

    class GroupNorm(_CastingLayer, torch.nn.GroupNorm):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
            weight, bias = cast_bias_weight(self, input)
            return torch.nn.functional.group_norm(input, self.num_groups, weight, bias, self.eps)

    class LayerNorm(_CastingLayer, torch.nn.LayerNorm):
        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
            weight, bias = cast_bias_weight(self, input) if self.weight is not None else (None, None)
            return torch.nn.functional.layer_norm(input, self.normalized_shape, weight, bias, self.eps)

    class RMSNorm(_CastingLayer, comfy.rmsnorm.RMSNorm):
        def reset_parameters(self) -> None:
            self.bias = None

        def forward_comfy_cast_weights(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002
            weight = None
            if self.weight is not None:
                weight, _ = cast_bias_weight(self, input)
            return comfy.rmsnorm.rms_norm(input, weight, self.eps)

    class ConvTranspose1d(_CastingLayer, torch.nn.ConvTranspose1d):
        def forward_comfy_cast_weights(self, input: torch.Tensor,  # noqa: A002
                                       output_size: list[int] | None = None) -> torch.Tensor:
            padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size, 1,
                                           self.dilation)
            weight, bias = cast_bias_weight(self, input)
            return torch.nn.functional.conv_transpose1d(input, weight, bias, self.stride, self.padding, padding,
                                                        self.groups, self.dilation)

    class ConvTranspose2d(_CastingLayer, torch.nn.ConvTranspose2d):
        def forward_comfy_cast_weights(self, input: torch.Tensor,  # noqa: A002
                                       output_size: list[int] | None = None) -> torch.Tensor:
            padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size, 2,
                                           self.dilation)
            weight, bias = cast_bias_weight(self, input)
            return torch.nn.functional.conv_transpose2d(input, weight, bias, self.stride, self.padding, padding,
                                                        self.groups, self.dilation)

    class Embedding(_CastingLayer, torch.nn.Embedding):
        def reset_parameters(self) -> None:
            self.bias = None

        def forward_comfy_cast_weights(self, input: torch.Tensor,  # noqa: A002
                                       out_dtype: torch.dtype | None = None) -> torch.Tensor:
            # A half-precision table is looked up as it is stored; the rows are cast afterwards.
            lookup_dtype = None if self.weight.dtype in (torch.float16, torch.bfloat16) else out_dtype
            weight, _ = cast_bias_weight(self, device=input.device, dtype=lookup_dtype)
            rows = torch.nn.functional.embedding(input, weight, self.padding_idx, self.max_norm, self.norm_type,
                                                 self.scale_grad_by_freq, self.sparse)
            return rows.to(dtype=out_dtype)

        def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
            if self.comfy_cast_weights or self.weight_function or self.bias_function:
                return self.forward_comfy_cast_weights(*args, **kwargs)
            out_dtype = kwargs.pop("out_dtype", None)
            rows = torch.nn.Embedding.forward(self, *args, **kwargs)
            return rows if out_dtype is None else rows.to(out_dtype)

    @classmethod
    def conv_nd(cls, dims: int, *args: Any, **kwargs: Any) -> torch.nn.Module:
        """A `dims`-dimensional convolution of this set (2 or 3)."""
        if dims == 2:
            return cls.Conv2d(*args, **kwargs)
        if dims == 3:
            return cls.Conv3d(*args, **kwargs)
        raise ValueError(f"unsupported dimensions: {dims}")


class manual_cast(disable_weight_init):  # noqa: N801 - ComfyUI's name
    """The layers of `disable_weight_init` that always cast their weights to the input's dtype and device."""

    class Linear(disable_weight_init.Linear):
        comfy_cast_weights = True

    class Conv1d(disable_weight_init.Conv1d):
        comfy_cast_weights = True

    class Conv2d(disable_weight_init.Conv2d):
        comfy_cast_weights = True

    class Conv3d(disable_weight_init.Conv3d):
        comfy_cast_weights = True

    class GroupNorm(disable_weight_init.GroupNorm):
        comfy_cast_weights = True

    class LayerNorm(disable_weight_init.LayerNorm):
        comfy_cast_weights = True

    class RMSNorm(disable_weight_init.RMSNorm):
        comfy_cast_weights = True

    class ConvTranspose1d(disable_weight_init.ConvTranspose1d):
        comfy_cast_weights = True

    class ConvTranspose2d(disable_weight_init.ConvTranspose2d):
        comfy_cast_weights = True

    class Embedding(disable_weight_init.Embedding):
        comfy_cast_weights = True


def pick_operations(weight_dtype: torch.dtype | None, compute_dtype: torch.dtype | None, load_device: Any = None,
                    disable_fast_fp8: bool = False, fp8_optimizations: bool = False, scaled_fp8: Any = None
                    ) -> type:
    """The operations for weights stored in `weight_dtype` computed in `compute_dtype`: `manual_cast` when they
    differ, else `disable_weight_init`. fp8 matrix multiplication and per-layer fp8 scales (`fp8_optimizations`,
    `scaled_fp8`) are ComfyUI's fast paths that Kiln does not have: it refuses them rather than ignore them."""
    if fp8_optimizations or scaled_fp8 is not None:
        raise NotImplementedError("comfy.ops.pick_operations: Kiln has no fp8 matrix-multiply or scaled-fp8 "
                                  "operations; pass fp8_optimizations=False and scaled_fp8=None (weights are then "
                                  "cast per layer).")
    if compute_dtype is None or weight_dtype == compute_dtype:
        return disable_weight_init
    return manual_cast


# The torch layer classes an operations set can stand in for, by the attribute name the set uses.
_LAYER_NAMES: dict[type, str] = {
    torch.nn.Linear: "Linear", torch.nn.Conv1d: "Conv1d", torch.nn.Conv2d: "Conv2d", torch.nn.Conv3d: "Conv3d",
    torch.nn.GroupNorm: "GroupNorm", torch.nn.LayerNorm: "LayerNorm", torch.nn.RMSNorm: "RMSNorm",
    torch.nn.ConvTranspose1d: "ConvTranspose1d", torch.nn.ConvTranspose2d: "ConvTranspose2d",
    torch.nn.Embedding: "Embedding",
}


def _layer_arguments(layer: torch.nn.Module) -> tuple[tuple, dict[str, Any]]:
    """The constructor arguments that rebuild `layer` (a plain torch layer) with the same shape and options."""
    if isinstance(layer, torch.nn.Linear):
        return (layer.in_features, layer.out_features), {"bias": layer.bias is not None}
    if isinstance(layer, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.ConvTranspose1d,
                          torch.nn.ConvTranspose2d)):
        options = {"stride": layer.stride, "padding": layer.padding, "dilation": layer.dilation,
                   "groups": layer.groups, "bias": layer.bias is not None, "padding_mode": layer.padding_mode}
        if isinstance(layer, (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d)):
            options["output_padding"] = layer.output_padding
        return (layer.in_channels, layer.out_channels, layer.kernel_size), options
    if isinstance(layer, torch.nn.GroupNorm):
        return (layer.num_groups, layer.num_channels), {"eps": layer.eps, "affine": layer.affine}
    if isinstance(layer, torch.nn.LayerNorm):
        return (layer.normalized_shape,), {"eps": layer.eps, "elementwise_affine": layer.elementwise_affine,
                                           "bias": layer.bias is not None}
    if isinstance(layer, torch.nn.RMSNorm):
        return (layer.normalized_shape,), {"eps": layer.eps, "elementwise_affine": layer.elementwise_affine}
    if isinstance(layer, torch.nn.Embedding):
        return (layer.num_embeddings, layer.embedding_dim), {"padding_idx": layer.padding_idx}
    raise TypeError(f"no operation stands in for {type(layer).__name__}")


def replace_layers(network: torch.nn.Module, operations: Any) -> int:
    """Rebuild every plain torch layer of `network` that `operations` has a class for (`operations.Linear`, ...)
    as that class, on the meta device, ready for its weights to be loaded with `load_state_dict(...,
    assign=True)` (which calls each layer's own `_load_from_state_dict`). Returns how many layers changed."""
    replaced = 0
    for owner in list(network.modules()):
        for child_name, child in list(owner.named_children()):
            layer_name = _LAYER_NAMES.get(type(child))
            layer_class = getattr(operations, layer_name, None) if layer_name else None
            if layer_class is None:
                continue
            positional, options = _layer_arguments(child)
            with torch.device("meta"):
                replacement = layer_class(*positional, **options, device="meta")
            replacement.train(child.training)
            setattr(owner, child_name, replacement)
            replaced += 1
    return replaced


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln stores fp8 weights with comfy.manual_cast, not ComfyUI's fp8 matmul operations"

fp8_linear = unsupported_function(__name__, 'fp8_linear', 'self, input', _REASON)
fp8_ops = unsupported_class(__name__, 'fp8_ops', None, _REASON)
scaled_fp8_ops = unsupported_function(__name__, 'scaled_fp8_ops', 'fp8_matrix_mult=, scale_input=, override_dtype=', _REASON)
