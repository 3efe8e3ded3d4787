"""ComfyUI's attention hooks on Kiln's diffusers UNet: `optimized_attention` and the transformer patches.

ComfyUI's UNet runs each transformer block as: norm1 → `attn1_patch`es → self-attention (or the `attn1`
replacement registered for the block) → `attn1_output_patch`es → residual → `middle_patch`es → norm2 →
`attn2_patch`es → cross-attention (or the `attn2` replacement) → `attn2_output_patch`es → residual → norm3 → feed
forward → residual, every attention going through `comfy.ldm.modules.attention.optimized_attention`. Packs hook in
there through `model_options["transformer_options"]` (IPAdapter replaces `attn2`; HyperTile, PAG, SAG and others
patch or replace attention) or by replacing `optimized_attention` itself.

`install(unet)` gives a diffusers `UNet2DConditionModel` the same behaviour in place, with the same parameters:
each `BasicTransformerBlock` becomes a `ComfyTransformerBlock` that knows its ComfyUI address (`("input", 4)`,
block index 0, ...), each of its attention layers gets a `ComfyAttnProcessor`, and each `Transformer2DModel`
reports its input shape (`activations_shape`) and counts itself (`transformer_index`) as ComfyUI's
`SpatialTransformer` does. `comfy.model_base.BaseModel` passes the sampler's transformer_options to the network as
`cross_attention_kwargs={"transformer_options": ...}`. With no patches and the default `optimized_attention`
(torch's `scaled_dot_product_attention`) the numbers are those of diffusers' own processor.

The UNet-level patches (`input_block_patch`, `input_block_patch_after_skip`, `output_block_patch`: FreeU, Kohya
Deep Shrink and the like; and `emb_patch`) sit between ComfyUI's LDM blocks, inside diffusers' down and up
blocks; when a patch set holds them, `comfy.unet_blocks` runs the UNet block by block in ComfyUI's order and calls
them there. Not honoured: `forward_timestep_embed_patch` (keyed by ComfyUI's LDM layer classes).
"""

from __future__ import annotations

import functools
from typing import Any

import torch

import comfy.ldm.modules.attention as comfy_attention

# transformer_options keys that hold patches rather than facts (they are not passed to patches as extra_options).
_PATCH_KEYS = ("patches", "patches_replace")


def _attention(attn: Any, hidden_states: torch.Tensor, context: torch.Tensor | None = None,
               value: torch.Tensor | None = None, mask: torch.Tensor | None = None,
               transformer_options: dict | None = None) -> torch.Tensor:
    """What ComfyUI's CrossAttention does with a diffusers `Attention`: project q from `hidden_states`, k from
    `context` (default: `hidden_states`) and v from `value` (default: `context`), attend through the current
    `optimized_attention`, project out."""
    context = hidden_states if context is None else context
    value = context if value is None else value
    query, key, value = attn.to_q(hidden_states), attn.to_k(context), attn.to_v(value)
    out = comfy_attention.optimized_attention(query, key, value, attn.heads, mask=mask,
                                              attn_precision=getattr(attn, "comfy_attn_precision", None),
                                              transformer_options=transformer_options or {})
    return attn.to_out[1](attn.to_out[0](out.to(query.dtype)))


class ComfyAttnProcessor:
    """A diffusers attention processor that runs the layer as ComfyUI's CrossAttention (see `_attention`); for
    the transformer-block attention of the UNet (3-D inputs, no group or spatial norm, no residual)."""

    def __call__(self, attn: Any, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None,
                 transformer_options: dict | None = None, **kwargs: Any) -> torch.Tensor:
        if attention_mask is not None:
            batch, tokens = hidden_states.shape[0], (encoder_hidden_states if encoder_hidden_states is not None
                                                     else hidden_states).shape[1]
            attention_mask = attn.prepare_attention_mask(attention_mask, tokens, batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
        return _attention(attn, hidden_states, encoder_hidden_states, mask=attention_mask,
                          transformer_options=transformer_options)


def _extra_options(transformer_options: dict, attn: Any) -> dict[str, Any]:
    """What ComfyUI gives a block's patches: every fact of transformer_options plus the heads, head width and
    attention precision of the block."""
    extra = {key: value for key, value in transformer_options.items() if key not in _PATCH_KEYS}
    extra["n_heads"] = attn.heads
    extra["dim_head"] = attn.inner_dim // attn.heads
    extra["attn_precision"] = getattr(attn, "comfy_attn_precision", None)
    return extra


def _run_attention(kind: str, attn: Any, n: torch.Tensor, context: torch.Tensor | None,
                   transformer_options: dict, block_address: tuple | None, block_name: tuple | None,
                   extra: dict[str, Any]) -> torch.Tensor:
    """One attention of a transformer block (kind "attn1" or "attn2") with ComfyUI's patches: `<kind>_patch`es on
    (n, context, value), the `<kind>` replacement for the block if one is registered, `<kind>_output_patch`es."""
    patches = transformer_options.get("patches", {})
    value = None
    if f"{kind}_patch" in patches:
        if context is None:
            context = n
        value = context
        for patch in patches[f"{kind}_patch"]:
            n, context, value = patch(n, context, value, extra)
    replacements = transformer_options.get("patches_replace", {}).get(kind, {})
    key = block_address if block_address in replacements else block_name
    if key in replacements:
        if context is None:
            context = n
        if value is None:
            value = context
        out = replacements[key](attn.to_q(n), attn.to_k(context), attn.to_v(value), extra)
        out = attn.to_out[1](attn.to_out[0](out))
    else:
        out = _attention(attn, n, context, value, transformer_options=transformer_options)
    for patch in patches.get(f"{kind}_output_patch", ()):
        out = patch(out, extra)
    return out


class ComfyTransformerBlock:
    """Mixed into a diffusers `BasicTransformerBlock` (layer-norm type) in place: its forward runs as ComfyUI's
    BasicTransformerBlock, with the patches of `transformer_options` (see the module docstring)."""

    comfy_block: tuple[str, int] | None = None  # ("input", 4), ("middle", 0), ("output", 3)
    comfy_block_index = 0  # the block's index in its Transformer2DModel

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                encoder_hidden_states: torch.Tensor | None = None, encoder_attention_mask: torch.Tensor | None = None,
                timestep: Any = None, cross_attention_kwargs: dict | None = None, class_labels: Any = None,
                added_cond_kwargs: Any = None) -> torch.Tensor:
        transformer_options = (cross_attention_kwargs or {}).get("transformer_options") or {}
        transformer_options["block_index"] = self.comfy_block_index
        block = self.comfy_block
        if block is not None:
            transformer_options["block"] = block
        address = (block[0], block[1], self.comfy_block_index) if block is not None else None
        x = hidden_states
        extra = _extra_options(transformer_options, self.attn1)
        n = _run_attention("attn1", self.attn1, self.norm1(x), encoder_hidden_states if self.only_cross_attention
                           else None, transformer_options, address, block, extra)
        x = n + x
        for patch in transformer_options.get("patches", {}).get("middle_patch", ()):
            x = patch(x, extra)
        if self.attn2 is not None:
            n = _run_attention("attn2", self.attn2, self.norm2(x), encoder_hidden_states, transformer_options,
                               address, block, extra)
            x = n + x
        return self.ff(self.norm3(x)) + x


def _before_transformer(module: Any, args: tuple, kwargs: dict) -> None:
    """Transformer2DModel pre-hook: note the block and its input shape, as ComfyUI's SpatialTransformer does."""
    transformer_options = (kwargs.get("cross_attention_kwargs") or {}).get("transformer_options")
    if transformer_options is None:
        return
    hidden_states = args[0] if args else kwargs.get("hidden_states")
    transformer_options["activations_shape"] = list(hidden_states.shape)
    if module.comfy_block is not None:
        transformer_options["block"] = module.comfy_block


def _after_transformer(module: Any, args: tuple, kwargs: dict, output: Any) -> None:
    """Transformer2DModel hook: count one more spatial transformer run (`transformer_index`)."""
    transformer_options = (kwargs.get("cross_attention_kwargs") or {}).get("transformer_options")
    if transformer_options is not None and "transformer_index" in transformer_options:
        transformer_options["transformer_index"] += 1


def _per_level(value: Any, levels: int) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [value] * levels


def _address_transformers(unet: Any) -> list[tuple[Any, tuple[str, int]]]:
    """Each Transformer2DModel of the UNet with its ComfyUI block: input blocks count from 1 (0 is conv_in),
    one per resnet of a level plus one downsampler between levels; output blocks count resnets of each level."""
    levels = len(unet.down_blocks)
    layers = _per_level(unet.config.layers_per_block, levels)
    found: list[tuple[Any, tuple[str, int]]] = []
    first = 1
    for level, down in enumerate(unet.down_blocks):
        for index, transformer in enumerate(getattr(down, "attentions", None) or ()):
            found.append((transformer, ("input", first + index)))
        first += layers[level] + 1
    for transformer in getattr(unet.mid_block, "attentions", None) or ():
        found.append((transformer, ("middle", 0)))
    first = 0
    for level, up in enumerate(unet.up_blocks):
        for index, transformer in enumerate(getattr(up, "attentions", None) or ()):
            found.append((transformer, ("output", first + index)))
        first += layers[levels - 1 - level] + 1
    return found


@functools.cache
def _comfy_block_class() -> type:
    """diffusers' BasicTransformerBlock with ComfyUI's forward (made on first use: diffusers loads lazily)."""
    from diffusers.models.attention import BasicTransformerBlock

    return type("ComfyBasicTransformerBlock", (ComfyTransformerBlock, BasicTransformerBlock), {})


def install(unet: torch.nn.Module, attn_precision: torch.dtype | None = None) -> int:
    """Make a diffusers UNet run its transformer blocks as ComfyUI does (see the module docstring); returns the
    number of transformer blocks changed. Blocks of other norm types are left as they are."""
    from diffusers.models.attention import BasicTransformerBlock

    changed = 0
    for transformer, block in _address_transformers(unet):
        transformer.comfy_block = block
        transformer.register_forward_pre_hook(_before_transformer, with_kwargs=True)
        transformer.register_forward_hook(_after_transformer, with_kwargs=True)
        for index, layer in enumerate(getattr(transformer, "transformer_blocks", ())):
            if type(layer) is not BasicTransformerBlock or layer.norm_type != "layer_norm" or layer.pos_embed:
                continue
            layer.__class__ = _comfy_block_class()
            layer.comfy_block, layer.comfy_block_index = block, index
            for attn in (layer.attn1, layer.attn2):
                if attn is not None:
                    attn.comfy_attn_precision = attn_precision
                    attn.set_processor(ComfyAttnProcessor())
            changed += 1
    return changed

