"""A diffusers `UNet2DConditionModel` run block by block in ComfyUI's LDM order, with the UNet-level patches.

ComfyUI's UNet is a list of blocks: `input_blocks` (0 is the input convolution; then each resnet with its
spatial transformer, if the level has one, is a block, and each downsampler between levels is a block of its own),
the `middle_block`, and `output_blocks` (each resnet of a level with its transformer, the level's upsampler joined
to its last one). For every input block it sets `transformer_options["block"] = ("input", id)`, runs the block,
adds the control's "input" feature, calls each `input_block_patch(h, transformer_options)`, keeps `h` as a skip
connection and then calls each `input_block_patch_after_skip(h, transformer_options)`. For every output block it
sets `("output", id)`, takes the last skip `hsp` (plus the control's "output" residual), calls each
`output_block_patch(h, hsp, transformer_options) -> (h, hsp)`, concatenates `[h, hsp]` on channels and runs the
block, whose upsampler resizes to the next skip's height and width. FreeU, Kohya Deep Shrink
(PatchModelAddDownscale) and packs' custom patches hook in there; `emb_patch`es rewrite the time embedding.
ComfyUI 0.3.64 has no patch at the middle block.

diffusers' down and up blocks run several of these blocks in one call, so `forward` walks their submodules
instead (`conv_in`, `resnets`, `attentions`, `downsamplers`, `mid_block`, `upsamplers`, the output convolution)
with the same arithmetic as `UNet2DConditionModel.forward`, ControlNet and T2I-Adapter residuals included; with
no patches its output is bit-identical to diffusers' (tests/unit/test_unet_blocks.py). Kiln uses it only when
such patches are present (`has_block_patches`); the plain call stays diffusers' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

# The transformer_options["patches"] entries that need the block walk.
BLOCK_PATCHES = ("input_block_patch", "input_block_patch_after_skip", "output_block_patch", "emb_patch")


def has_block_patches(transformer_options: dict | None) -> bool:
    """Whether `transformer_options` holds a UNet-level patch (see `BLOCK_PATCHES`)."""
    patches = (transformer_options or {}).get("patches") or {}
    return any(patches.get(name) for name in BLOCK_PATCHES)


def _embedding(unet: Any, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor,
               added_cond_kwargs: dict | None, options: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The time embedding (with class and added embeddings, SDXL's text_time) and the sample, as diffusers'
    forward makes them; the sample changes only for "image_hint" models. ComfyUI's `emb_patch`es
    (`patch(emb, model_channels, transformer_options) -> emb`) see the timestep's embedding before the added ones
    join it."""
    emb = unet.time_embedding(unet.get_time_embed(sample=sample, timestep=timestep), None)
    for patch in (options.get("patches") or {}).get("emb_patch", ()):
        emb = patch(emb, int(unet.config.block_out_channels[0]), options)
    class_emb = unet.get_class_embed(sample=sample, class_labels=None)
    if class_emb is not None:
        emb = torch.cat([emb, class_emb], dim=-1) if unet.config.class_embeddings_concat else emb + class_emb
    aug_emb = unet.get_aug_embed(emb=emb, encoder_hidden_states=encoder_hidden_states,
                                 added_cond_kwargs=added_cond_kwargs)
    if unet.config.addition_embed_type == "image_hint":
        aug_emb, hint = aug_emb
        sample = torch.cat([sample, hint], dim=1)
    if aug_emb is not None:
        emb = emb + aug_emb
    if unet.time_embed_act is not None:
        emb = unet.time_embed_act(emb)
    return emb, sample


def _attend(attention: Any, h: torch.Tensor, context: torch.Tensor, cross_attention_kwargs: dict) -> torch.Tensor:
    return attention(h, encoder_hidden_states=context, cross_attention_kwargs=cross_attention_kwargs,
                     attention_mask=None, encoder_attention_mask=None, return_dict=False)[0]


def _upsample_size(h: torch.Tensor, skips: list[torch.Tensor]) -> Sequence[int] | None:
    """The upsampler's output size: the next skip connection's (as ComfyUI's Upsample takes it); None where that
    is simply twice the input (or there is none), so diffusers' own scale-2 interpolation runs."""
    if not skips:
        return None
    size = tuple(skips[-1].shape[2:])
    return None if size == (h.shape[2] * 2, h.shape[3] * 2) else size


def forward(unet: Any, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor, *,
            added_cond_kwargs: dict | None = None, cross_attention_kwargs: dict | None = None,
            down_block_additional_residuals: Sequence[torch.Tensor] | None = None,
            mid_block_additional_residual: torch.Tensor | None = None,
            down_intrablock_additional_residuals: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """`unet(sample, timestep, encoder_hidden_states, ...)` (diffusers' arguments, the same meaning) run in
    ComfyUI's block order with the UNet-level patches of `cross_attention_kwargs["transformer_options"]`.

    sample: [B, C, H, W] network input; timestep: [B] or scalar; encoder_hidden_states: [B, tokens, width].
    Returns the network output [B, out_channels, H, W]."""
    cross_attention_kwargs = dict(cross_attention_kwargs or {})
    options = cross_attention_kwargs.setdefault("transformer_options", {})
    patches = options.get("patches") or {}
    input_patches = patches.get("input_block_patch", ())
    after_skip_patches = patches.get("input_block_patch_after_skip", ())
    output_patches = patches.get("output_block_patch", ())

    if unet.config.center_input_sample:
        sample = 2 * sample - 1.0
    emb, sample = _embedding(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs, options)
    context = unet.process_encoder_hidden_states(encoder_hidden_states=encoder_hidden_states,
                                                 added_cond_kwargs=added_cond_kwargs)

    is_controlnet = mid_block_additional_residual is not None and down_block_additional_residuals is not None
    adapter = down_intrablock_additional_residuals
    if adapter is None and mid_block_additional_residual is None and down_block_additional_residuals is not None:
        adapter = down_block_additional_residuals  # diffusers' legacy T2I-Adapter argument
    adapter = list(adapter) if adapter is not None else None

    skips: list[torch.Tensor] = []
    block = 0

    def input_block(h: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        nonlocal block
        if residual is not None:
            h = h + residual
        for patch in input_patches:
            h = patch(h, options)
        skips.append(h)
        for patch in after_skip_patches:
            h = patch(h, options)
        block += 1
        return h

    # Input blocks: conv_in, then each level's resnets (+ transformers) and its downsampler. A T2I-Adapter
    # feature joins the level's last resnet in a level with transformers, the level's output otherwise
    # (where diffusers adds them).
    options["block"] = ("input", block)
    h = input_block(unet.conv_in(sample))
    for down in unet.down_blocks:
        attentions = getattr(down, "attentions", None) if getattr(down, "has_cross_attention", False) else None
        residual = adapter.pop(0) if adapter else None
        last_resnet = len(down.resnets) - 1
        last_block = last_resnet if attentions is not None or down.downsamplers is None else None
        for index, resnet in enumerate(down.resnets):
            options["block"] = ("input", block)
            h = resnet(h, emb)
            if attentions is not None:
                h = _attend(attentions[index], h, context, cross_attention_kwargs)
            h = input_block(h, residual if index == last_block else None)
        for downsampler in down.downsamplers or ():
            options["block"] = ("input", block)
            h = input_block(downsampler(h), residual if last_block is None else None)

    if is_controlnet:
        skips = [skip + residual for skip, residual in zip(skips, down_block_additional_residuals, strict=False)]

    options["block"] = ("middle", 0)
    if unet.mid_block is not None:
        if getattr(unet.mid_block, "has_cross_attention", False):
            h = unet.mid_block(h, emb, encoder_hidden_states=context, attention_mask=None,
                               cross_attention_kwargs=cross_attention_kwargs, encoder_attention_mask=None)
        else:
            h = unet.mid_block(h, emb)
        if adapter and h.shape == adapter[0].shape:  # T2I-Adapter-XL's middle feature
            h = h + adapter.pop(0)
    if is_controlnet:
        h = h + mid_block_additional_residual

    # Output blocks: each level's resnets (+ transformers), the upsampler after the last.
    block = 0
    for up in unet.up_blocks:
        attentions = getattr(up, "attentions", None) if getattr(up, "has_cross_attention", False) else None
        for index, resnet in enumerate(up.resnets):
            options["block"] = ("output", block)
            skip = skips.pop()
            for patch in output_patches:
                h, skip = patch(h, skip, options)
            h = resnet(torch.cat([h, skip], dim=1), emb)
            if attentions is not None:
                h = _attend(attentions[index], h, context, cross_attention_kwargs)
            if index == len(up.resnets) - 1:
                for upsampler in up.upsamplers or ():
                    h = upsampler(h, _upsample_size(h, skips))
            block += 1

    if unet.conv_norm_out:
        h = unet.conv_act(unet.conv_norm_out(h))
    return unet.conv_out(h)
