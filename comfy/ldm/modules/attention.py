"""ComfyUI's attention functions (`comfy.ldm.modules.attention`): the one call every attention layer makes.

`optimized_attention(q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False,
skip_output_reshape=False, transformer_options=...)` takes queries, keys and values projected by the layer:
- `[B, N, heads * dim_head]` each (or `[B, heads, N, dim_head]` with `skip_reshape`),
- an optional additive or boolean `mask` `[Nq, Nk]`, `[B, Nq, Nk]` or `[B, heads, Nq, Nk]`,
and gives `[B, Nq, heads * dim_head]` (or `[B, heads, Nq, dim_head]` with `skip_output_reshape`). B is the
queries' batch: keys and values of a smaller batch are viewed as B entries of fewer tokens, as ComfyUI views them
(HyperTile splits only the queries into tiles).

Kiln's diffusion networks are diffusers modules; `comfy.diffusers_attention` gives their attention layers
processors that call this module's `optimized_attention` at call time. So a pack that assigns
`comfy.ldm.modules.attention.optimized_attention = its_function`, or that sets
`transformer_options["optimized_attention_override"]` (read by `wrap_attn`), changes what Kiln's models compute,
as it changes ComfyUI's. Kiln's default (`attention_default`) is torch's `scaled_dot_product_attention`
(`attention_pytorch`), except for float16 / bfloat16 inputs on a CPU (`attention_sub_quad`).

The LDM modules ComfyUI defines here (`CrossAttention`, `BasicTransformerBlock`, `SpatialTransformer`, ...) are
not: Kiln's UNet is diffusers' (see tests/fixtures/comfyui/public_names_gaps.json).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import torch

import comfy.ops
from comfy import model_management
from comfy.cli_args import args

# The optional kernels ComfyUI can use; Kiln ships none of them.
SAGE_ATTENTION_IS_AVAILABLE = False
FLASH_ATTENTION_IS_AVAILABLE = False
BROKEN_XFORMERS = False

# ComfyUI's default operations for the layers it builds here.
ops = comfy.ops.disable_weight_init

FORCE_UPCAST_ATTENTION_DTYPE = model_management.force_upcast_attention_dtype()

# Attention functions by name, for `get_attention_function` (packs may add their own).
REGISTERED_ATTENTION_FUNCTIONS: dict[str, Callable] = {}

# Key chunk of `attention_sub_quad` and query chunk of `attention_split`.
_KEY_CHUNK = 1024
_QUERY_CHUNK = 1024


def exists(val: Any) -> bool:
    return val is not None


def default(val: Any, d: Any) -> Any:
    return val if val is not None else d


def get_attn_precision(attn_precision: torch.dtype | None, current_dtype: torch.dtype) -> torch.dtype | None:
    """The dtype to compute attention scores in: `attn_precision`, or float32 for float16 inputs with
    --force-upcast-attention; None with --dont-upcast-attention."""
    if getattr(args, "dont_upcast_attention", False):
        return None
    if FORCE_UPCAST_ATTENTION_DTYPE is not None and current_dtype in FORCE_UPCAST_ATTENTION_DTYPE:
        return FORCE_UPCAST_ATTENTION_DTYPE[current_dtype]
    return attn_precision


def register_attention_function(name: str, func: Callable) -> None:
    """Make `func` available as `get_attention_function(name)`; a name already taken keeps its function."""
    if name in REGISTERED_ATTENTION_FUNCTIONS:
        logging.warning("Attention function %s already registered, skipping registration.", name)
        return
    REGISTERED_ATTENTION_FUNCTIONS[name] = func


def get_attention_function(name: str, default: Any = ...) -> Callable | None:
    """The attention function registered as `name` ("optimized": the current `optimized_attention`); KeyError
    for an unknown name unless a `default` is given."""
    if name == "optimized":
        return optimized_attention
    if name in REGISTERED_ATTENTION_FUNCTIONS:
        return REGISTERED_ATTENTION_FUNCTIONS[name]
    if default is ...:
        raise KeyError(f"Attention function {name} not found.")
    return default


def wrap_attn(func: Callable) -> Callable:
    """Let `transformer_options["optimized_attention_override"]` stand in for `func`: when the call's
    transformer_options hold an override, it is called as `override(func, *args, **kwargs)` instead (once: calls
    made inside it go to the attention functions themselves)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> torch.Tensor:
        if "_inside_attn_wrapper" in kwargs:
            return func(*args, **kwargs)
        kwargs["_inside_attn_wrapper"] = True
        try:
            transformer_options = kwargs.get("transformer_options")
            if transformer_options is not None and "optimized_attention_override" in transformer_options:
                return transformer_options["optimized_attention_override"](func, *args, **kwargs)
            return func(*args, **kwargs)
        finally:
            kwargs.pop("_inside_attn_wrapper", None)

    return wrapper


# -- the layout every attention function shares ------------------------------------------------------------------

def _to_heads(t: torch.Tensor, heads: int, skip_reshape: bool, batch: int | None = None) -> torch.Tensor:
    """`[B, N, heads * d]` (or already `[B, heads, N, d]`) as `[B, heads, N, d]`. With `batch` (the queries'
    batch), keys and values are viewed as that many batch entries, as ComfyUI's attention functions view them:
    a patch that splits the queries into tiles along the batch (HyperTile) leaves the keys whole, and each tile
    then attends to its own consecutive slice of the key tokens."""
    if skip_reshape:
        return t
    width = t.shape[-1]
    return t.reshape(t.shape[0] if batch is None else batch, -1, heads, width // heads).transpose(1, 2)


def _qkv_to_heads(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, skip_reshape: bool
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """q, k and v as `[B, heads, N, d]`, B being the queries' batch (see `_to_heads`)."""
    batch = q.shape[0]
    return tuple(_to_heads(t, heads, skip_reshape, batch) for t in (q, k, v))


def _from_heads(out: torch.Tensor, skip_output_reshape: bool) -> torch.Tensor:
    """`[B, heads, N, d]` as `[B, N, heads * d]` (unchanged with `skip_output_reshape`)."""
    if skip_output_reshape:
        return out
    batch, heads, tokens, dim_head = out.shape
    return out.transpose(1, 2).reshape(batch, tokens, heads * dim_head)


def _mask_4d(mask: torch.Tensor | None) -> torch.Tensor | None:
    """A mask given as `[Nq, Nk]` or `[B, Nq, Nk]` as `[B|1, heads|1, Nq, Nk]`."""
    if mask is None:
        return None
    if mask.ndim == 2:
        mask = mask.unsqueeze(0)
    if mask.ndim == 3:
        mask = mask.unsqueeze(1)
    return mask


def _additive(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """A boolean mask (True: attend) as an additive one in `dtype`."""
    if mask is None or mask.dtype != torch.bool:
        return mask
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, -torch.finfo(dtype).max)


def _scores(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None, precision: torch.dtype | None
            ) -> torch.Tensor:
    """Scaled dot products `[B, heads, Nq, Nk]` plus the mask, in `precision` (or the inputs' dtype)."""
    if precision is not None:
        q, k = q.to(precision), k.to(precision)
    scores = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    if mask is not None:
        scores = scores + _additive(mask, scores.dtype).to(scores.device)
    return scores


@wrap_attn
def attention_basic(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None = None,
                    attn_precision: torch.dtype | None = None, skip_reshape: bool = False,
                    skip_output_reshape: bool = False, **kwargs: Any) -> torch.Tensor:
    """Attention as written: softmax(q kᵀ / √d + mask) v, the scores in `attn_precision` when given."""
    precision = get_attn_precision(attn_precision, q.dtype)
    q, k, v = _qkv_to_heads(q, k, v, heads, skip_reshape)
    weights = _scores(q, k, _mask_4d(mask), precision).softmax(dim=-1)
    return _from_heads(weights.to(v.dtype) @ v, skip_output_reshape)


@wrap_attn
def attention_split(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None = None,
                    attn_precision: torch.dtype | None = None, skip_reshape: bool = False,
                    skip_output_reshape: bool = False, **kwargs: Any) -> torch.Tensor:
    """`attention_basic` computed a slice of queries at a time (less memory for the score matrix)."""
    precision = get_attn_precision(attn_precision, q.dtype)
    q, k, v = _qkv_to_heads(q, k, v, heads, skip_reshape)
    mask = _mask_4d(mask)
    pieces = []
    for start in range(0, q.shape[2], _QUERY_CHUNK):
        rows = slice(start, start + _QUERY_CHUNK)
        piece_mask = None if mask is None else mask[:, :, rows] if mask.shape[2] > 1 else mask
        weights = _scores(q[:, :, rows], k, piece_mask, precision).softmax(dim=-1)
        pieces.append(weights.to(v.dtype) @ v)
    return _from_heads(torch.cat(pieces, dim=2), skip_output_reshape)


_REDUCED_DTYPES = (torch.float16, torch.bfloat16)


def _reduced_precision_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d) v for `[B, heads, N, d]` inputs in float16 / bfloat16, every step in their dtype, as
    ComfyUI 0.3.64's sub-quadratic attention computes them on a CPU with memory to spare (all keys in one chunk,
    up to 4096 keys at least): the scores are rounded once after the scaled product (scaling a rounded product
    instead moves bf16 outputs by up to 0.2 at unit scale), softmaxed and multiplied by the values in the inputs'
    dtype. Queries go `_QUERY_CHUNK` at a time, which bounds the score matrix and changes no number."""
    batch, heads, tokens, width = q.shape
    flat_q, flat_k, flat_v = (t.reshape(batch * heads, t.shape[2], t.shape[3]) for t in (q, k, v))
    keys_t = flat_k.transpose(1, 2)
    pieces = []
    for start in range(0, tokens, _QUERY_CHUNK):
        rows = flat_q[:, start:start + _QUERY_CHUNK]
        scores = torch.baddbmm(torch.empty(rows.shape[0], rows.shape[1], keys_t.shape[2], dtype=q.dtype,
                                           device=q.device), rows, keys_t, alpha=width ** -0.5, beta=0)
        pieces.append(torch.bmm(scores.softmax(dim=-1), flat_v))
    return torch.cat(pieces, dim=1).reshape(batch, heads, tokens, -1)


@wrap_attn
def attention_sub_quad(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, heads: int,
                       mask: torch.Tensor | None = None, attn_precision: torch.dtype | None = None,
                       skip_reshape: bool = False, skip_output_reshape: bool = False, **kwargs: Any) -> torch.Tensor:
    """Attention over chunks of keys with a running softmax (Rabe & Staats, "Self-attention does not need O(n²)
    memory", 2021): each chunk's scores are exponentiated against the running maximum and the partial sums
    rescaled when it grows, so the full score matrix never exists."""
    precision = get_attn_precision(attn_precision, query.dtype)
    q, k, v = _qkv_to_heads(query, key, value, heads, skip_reshape)
    mask = _mask_4d(mask)
    if precision is None and q.dtype in _REDUCED_DTYPES and mask is None:
        return _from_heads(_reduced_precision_attention(q, k, v), skip_output_reshape)
    precision = precision or torch.float32
    running_max = running_sum = weighted = None
    for start in range(0, k.shape[2], _KEY_CHUNK):
        keys = slice(start, start + _KEY_CHUNK)
        chunk_mask = None if mask is None else mask[..., keys]
        scores = _scores(q, k[:, :, keys], chunk_mask, precision)
        chunk_max = scores.amax(dim=-1, keepdim=True)
        new_max = chunk_max if running_max is None else torch.maximum(running_max, chunk_max)
        exponentials = torch.exp(scores - new_max)
        chunk_values = exponentials @ v[:, :, keys].to(precision)
        if running_max is None:
            running_sum, weighted = exponentials.sum(dim=-1, keepdim=True), chunk_values
        else:
            correction = torch.exp(running_max - new_max)
            running_sum = running_sum * correction + exponentials.sum(dim=-1, keepdim=True)
            weighted = weighted * correction + chunk_values
        running_max = new_max
    return _from_heads((weighted / running_sum).to(v.dtype), skip_output_reshape)


@wrap_attn
def attention_pytorch(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None = None,
                      attn_precision: torch.dtype | None = None, skip_reshape: bool = False,
                      skip_output_reshape: bool = False, **kwargs: Any) -> torch.Tensor:
    """torch's `scaled_dot_product_attention` (its choice of kernel; the scores in the inputs' dtype)."""
    q, k, v = _qkv_to_heads(q, k, v, heads, skip_reshape)
    out = comfy.ops.scaled_dot_product_attention(q, k, v, attn_mask=_mask_4d(mask), dropout_p=0.0, is_causal=False)
    return _from_heads(out, skip_output_reshape)


@wrap_attn
def attention_default(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None = None,
                      attn_precision: torch.dtype | None = None, skip_reshape: bool = False,
                      skip_output_reshape: bool = False, **kwargs: Any) -> torch.Tensor:
    """Kiln's default attention: the numbers of ComfyUI 0.3.64's default on the inputs' device. ComfyUI runs the
    sub-quadratic attention on a CPU and torch's `scaled_dot_product_attention` on a GPU; in float32 the two
    agree to float32 rounding, so torch's (faster) kernel serves both, but on float16 / bfloat16 CPU inputs
    (ModelComputeDtype) torch's CPU kernel keeps the scores in float32 where ComfyUI's rounds them to the inputs'
    dtype (outputs up to 0.013 apart in fp16, 0.12 in bf16, of max 4, for q and k of scale 3 and unit v), so those take the
    sub-quadratic path."""
    arguments = {"mask": mask, "attn_precision": attn_precision, "skip_reshape": skip_reshape,
                 "skip_output_reshape": skip_output_reshape, **kwargs}
    if q.device.type == "cpu" and q.dtype in _REDUCED_DTYPES:
        return attention_sub_quad.__wrapped__(q, k, v, heads, **arguments)
    return attention_pytorch.__wrapped__(q, k, v, heads, **arguments)


# What every attention layer of Kiln's networks calls, looked up at call time (packs may replace it).
optimized_attention: Callable[..., torch.Tensor] = attention_default
optimized_attention_masked: Callable[..., torch.Tensor] = attention_pytorch

register_attention_function("pytorch", attention_pytorch)
register_attention_function("sub_quad", attention_sub_quad)
register_attention_function("split", attention_split)


class GEGLU(torch.nn.Module):
    """A gated GELU projection: one linear layer to twice `dim_out`, its second half (through GELU) gating the
    first."""

    def __init__(self, dim_in: int, dim_out: int, dtype: Any = None, device: Any = None, operations: Any = ops):
        super().__init__()
        self.proj = operations.Linear(dim_in, dim_out * 2, dtype=dtype, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * torch.nn.functional.gelu(gate)


class FeedForward(torch.nn.Module):
    """The transformer MLP: `net` = (GEGLU or linear + GELU to `mult` x `dim`, dropout, linear to `dim_out`)."""

    def __init__(self, dim: int, dim_out: int | None = None, mult: float = 4, glu: bool = False,
                 dropout: float = 0.0, dtype: Any = None, device: Any = None, operations: Any = ops):
        super().__init__()
        inner_dim = int(dim * mult)
        if glu:
            project_in = GEGLU(dim, inner_dim, dtype=dtype, device=device, operations=operations)
        else:
            project_in = torch.nn.Sequential(operations.Linear(dim, inner_dim, dtype=dtype, device=device),
                                             torch.nn.GELU())
        self.net = torch.nn.Sequential(project_in, torch.nn.Dropout(dropout),
                                       operations.Linear(inner_dim, dim_out or dim, dtype=dtype, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CrossAttention(torch.nn.Module):
    """Multi-head attention with ComfyUI's layout (`to_q`, `to_k`, `to_v` without bias, `to_out.0`): queries
    from `x`, keys from `context` (default `x`), values from `value` (default `context`), through the current
    `optimized_attention` (looked up at call time, so a pack's replacement applies)."""

    def __init__(self, query_dim: int, context_dim: int | None = None, heads: int = 8, dim_head: int = 64,
                 dropout: float = 0.0, attn_precision: Any = None, dtype: Any = None, device: Any = None,
                 operations: Any = ops):
        super().__init__()
        inner_dim = dim_head * heads
        context_dim = context_dim or query_dim
        self.attn_precision = attn_precision
        self.heads = heads
        self.dim_head = dim_head
        self.to_q = operations.Linear(query_dim, inner_dim, bias=False, dtype=dtype, device=device)
        self.to_k = operations.Linear(context_dim, inner_dim, bias=False, dtype=dtype, device=device)
        self.to_v = operations.Linear(context_dim, inner_dim, bias=False, dtype=dtype, device=device)
        self.to_out = torch.nn.Sequential(operations.Linear(inner_dim, query_dim, dtype=dtype, device=device),
                                          torch.nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, value: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, transformer_options: dict | None = None) -> torch.Tensor:
        context = x if context is None else context
        q, k = self.to_q(x), self.to_k(context)
        v = self.to_v(context if value is None else value)
        attention = optimized_attention if mask is None else optimized_attention_masked
        out = attention(q, k, v, self.heads, mask, attn_precision=self.attn_precision)
        return self.to_out(out)


def optimized_attention_for_device(device: Any, mask: bool = False, small_input: bool = False) -> Callable:
    """The attention function for a model that runs its own attention on `device` (CLIP vision and the like):
    torch's kernel for small inputs and on every device (Kiln always has it)."""
    return attention_pytorch


def Normalize(in_channels: int, dtype: torch.dtype | None = None, device: Any = None) -> torch.nn.GroupNorm:  # noqa: N802
    """The 32-group normalisation the LDM blocks use (eps 1e-6, affine)."""
    return torch.nn.GroupNorm(num_groups=32, num_channels=in_channels, eps=1e-6, affine=True, dtype=dtype,
                              device=device)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

BasicTransformerBlock = unsupported_class(__name__, 'BasicTransformerBlock', 'dim, n_heads, d_head, dropout=, context_dim=, gated_ff=, checkpoint=, ff_in=, inner_dim=, disable_self_attn=, disable_temporal_crossattention=, switch_temporal_ca_to_sa=, attn_precision=, dtype=, device=, operations=', _REASON)
SpatialTransformer = unsupported_class(__name__, 'SpatialTransformer', 'in_channels, n_heads, d_head, depth=, dropout=, context_dim=, disable_self_attn=, use_linear=, use_checkpoint=, attn_precision=, dtype=, device=, operations=', _REASON)
SpatialVideoTransformer = unsupported_class(__name__, 'SpatialVideoTransformer', 'in_channels, n_heads, d_head, depth=, dropout=, use_linear=, context_dim=, use_spatial_context=, timesteps=, merge_strategy=, merge_factor=, time_context_dim=, ff_in=, checkpoint=, time_depth=, disable_self_attn=, disable_temporal_crossattention=, max_time_embed_period=, attn_precision=, dtype=, device=, operations=', _REASON)
attention_flash = unsupported_function(__name__, 'attention_flash', 'q, k, v, heads, mask=, attn_precision=, skip_reshape=, skip_output_reshape=, **kwargs', "needs the flash_attn, sageattention or xformers CUDA packages, which Kiln does not use")
attention_sage = unsupported_function(__name__, 'attention_sage', 'q, k, v, heads, mask=, attn_precision=, skip_reshape=, skip_output_reshape=, **kwargs', "needs the flash_attn, sageattention or xformers CUDA packages, which Kiln does not use")
attention_xformers = unsupported_function(__name__, 'attention_xformers', 'q, k, v, heads, mask=, attn_precision=, skip_reshape=, skip_output_reshape=, **kwargs', "needs the flash_attn, sageattention or xformers CUDA packages, which Kiln does not use")
