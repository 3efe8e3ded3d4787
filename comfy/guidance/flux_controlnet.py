"""FLUX.1 ControlNets in XLabs' and InstantX's layouts, run as ComfyUI 0.3.64 runs them.

An XLabs ControlNet is a short FLUX.1 transformer in BFL's names (`img_in`, `txt_in`, `time_in`, `vector_in`,
`guidance_in`, `double_blocks.N`, usually no single blocks and no final layer) plus `pos_embed_input` (the packed
hint's embedding), `controlnet_blocks.N` (one linear layer per double block) and `input_hint_block` (eight 3x3
convolutions, SiLU between them, strides 2 at the 3rd, 5th and 7th: pixels to 16 channels at 1/8 size).

The transformer part is diffusers' `FluxControlNetModel`, converted from BFL's names with the FLUX.1 family's own
converter (`comfy.families.flux.convert`); the hint encoder is `HintEncoder` here. Around the network, as ComfyUI
does: the hint is mapped from 0..1 to -1..1 and encoded, then cut into 2x2 patches like the latent; the outputs of
the control blocks are repeated, the whole sequence over, to the 19 double (and 38 single) blocks of a full FLUX.1
and the model takes the first entries for its own blocks.

An InstantX ControlNet is diffusers' `FluxControlNetModel` as it is; it reads the VAE-encoded hint in FLUX.1's
latent scale (compression 1), and each control block's output is repeated in place rather than the sequence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from comfy.families import flux
from comfy.families.base import WeightLoadError
from comfy.families.shapes import count_indices, shape
from comfy.families.weights import load_checked
from comfy.guidance import formats
from comfy.guidance.control import ControlNet

HINT_PREFIX = "input_hint_block."
HINT_EMBEDDER_PREFIX = "pos_embed_input."
CONTROL_BLOCKS_PREFIX = "controlnet_blocks."
# A full FLUX.1's block counts: XLabs' outputs are repeated to these lengths whatever model is sampled.
FULL_DOUBLE_BLOCKS = 19
FULL_SINGLE_BLOCKS = 38
_HINT_CONVOLUTIONS = 8
_HINT_STRIDED = (2, 4, 6)  # 0-based convolutions with stride 2
_HINT_WIDTH = 16


class HintEncoder(torch.nn.Module):
    """XLabs' hint encoder: [B, 3, H, W] in -1..1 -> [B, 16, H/8, W/8]. `layers` keeps the file's numbering
    (convolutions at even indices, SiLUs between)."""

    def __init__(self, in_channels: int = 3):
        super().__init__()
        layers: list[torch.nn.Module] = []
        for index in range(_HINT_CONVOLUTIONS):
            if index:
                layers.append(torch.nn.SiLU())
            layers.append(torch.nn.Conv2d(in_channels if index == 0 else _HINT_WIDTH, _HINT_WIDTH, 3, padding=1,
                                          stride=2 if index in _HINT_STRIDED else 1))
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, hint: torch.Tensor) -> torch.Tensor:
        return self.layers(hint)


def _transformer_config(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """`comfy.families.flux.detect_config`'s values for the transformer part of an XLabs ControlNet."""
    hidden, packed = shape(state_dict, flux.INPUT_KEY)
    head_dim = shape(state_dict, "double_blocks.0.img_attn.norm.query_norm.scale")[0]
    return {
        "in_channels": packed // flux.PATCH_SIZE**2, "out_channels": packed // flux.PATCH_SIZE**2,
        "patch_size": flux.PATCH_SIZE, "hidden_size": hidden, "num_heads": hidden // head_dim, "head_dim": head_dim,
        "mlp_ratio": shape(state_dict, "double_blocks.0.img_mlp.0.weight")[0] / hidden,
        "depth": count_indices(state_dict, r"double_blocks\.(\d+)\."),
        "depth_single_blocks": count_indices(state_dict, r"single_blocks\.(\d+)\."),
        "context_in_dim": shape(state_dict, "txt_in.weight")[1],
        "vec_in_dim": shape(state_dict, "vector_in.in_layer.weight")[1],
        "qkv_bias": "double_blocks.0.img_attn.qkv.bias" in state_dict,
        "guidance_embed": "guidance_in.in_layer.weight" in state_dict,
        "axes_dim": list(flux.rope_axes(head_dim)), "theta": flux.THETA,
    }


def _convert_transformer(source: dict[str, torch.Tensor], config: dict[str, Any]
                         ) -> tuple[dict[str, Any], list[str]]:
    """(diffusers names, leftover keys) for the transformer part. diffusers' converter wants a final layer and
    at least one single block: shape-only stand-ins are given for what the file lacks and their results dropped."""
    stand_ins: dict[str, torch.Tensor] = {}
    layout = flux.original_layout({**config, "depth": 0, "depth_single_blocks": max(1, config["depth_single_blocks"])})
    for key, key_shape in layout.items():
        is_final = key.startswith("final_layer.")
        is_single = key.startswith("single_blocks.") and config["depth_single_blocks"] == 0
        if (is_final or is_single) and key not in source:
            stand_ins[key] = torch.empty(key_shape, device="meta")
    converted, leftover = flux.convert({**source, **stand_ins},
                                       {**config, "depth_single_blocks": max(1, config["depth_single_blocks"])})
    dropped = ("norm_out.", "proj_out.") + (("single_transformer_blocks.",) if config["depth_single_blocks"] == 0
                                             else ())
    converted = {key: value for key, value in converted.items() if not key.startswith(dropped)}
    return converted, [key for key in leftover if key not in stand_ins]


def load_xlabs(control: formats.ControlFormat, source_name: str, dtype: torch.dtype | None) -> ControlNet:
    """The CONTROL_NET of an XLabs FLUX.1 ControlNet."""
    from diffusers import FluxControlNetModel

    state_dict = control.state_dict
    hint = {key[len(HINT_PREFIX):]: value for key, value in state_dict.items() if key.startswith(HINT_PREFIX)}
    extra = {key: value for key, value in state_dict.items()
             if key.startswith((HINT_EMBEDDER_PREFIX, CONTROL_BLOCKS_PREFIX))}
    source = {key: value for key, value in state_dict.items() if key not in extra and not key.startswith(HINT_PREFIX)}
    config = _transformer_config(state_dict)
    try:
        diffusers = flux.diffusers_config({**config, "depth_single_blocks": max(1, config["depth_single_blocks"])})
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    diffusers["num_single_layers"] = config["depth_single_blocks"]
    del diffusers["out_channels"]  # a ControlNet has no output layer
    converted, leftover = _convert_transformer(source, config)
    converted["controlnet_x_embedder.weight"] = extra.pop(HINT_EMBEDDER_PREFIX + "weight", None)
    converted["controlnet_x_embedder.bias"] = extra.pop(HINT_EMBEDDER_PREFIX + "bias", None)
    for key in list(extra):
        converted[key] = extra.pop(key)  # controlnet_blocks.N.* keep their names
    checked_source = {key: value for key, value in state_dict.items() if not key.startswith(HINT_PREFIX)}
    network = load_checked(FluxControlNetModel, diffusers, checked_source, converted, "FLUX.1 XLabs ControlNet",
                           source_name, dtype, leftover)
    encoder = HintEncoder(shape(hint, "0.weight")[1])
    missing, unexpected = encoder.layers.load_state_dict(hint, strict=False)
    if missing or unexpected:
        raise WeightLoadError(f"{source_name}: the XLabs hint encoder does not fit: missing {missing[:4]}, "
                              f"unexpected {unexpected[:4]}")
    if dtype is not None:
        encoder.to(dtype)
    result = ControlNet(XLabsControlNetwork(network, encoder.eval()), extra_conds=["y", "guidance"])
    result.made_for = "FLUX.1"
    return result


INSTANTX_MODE_EMBEDDER = "controlnet_mode_embedder.weight"


def instantx_config(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The `FluxControlNetModel` config of an InstantX-layout (diffusers) FLUX.1 ControlNet, from its shapes."""
    hidden, packed = shape(state_dict, "x_embedder.weight")
    head_dim = shape(state_dict, "transformer_blocks.0.attn.norm_q.weight")[0]
    return {
        "patch_size": 1, "in_channels": packed,
        "num_layers": count_indices(state_dict, r"transformer_blocks\.(\d+)\."),
        "num_single_layers": count_indices(state_dict, r"single_transformer_blocks\.(\d+)\."),
        "attention_head_dim": head_dim, "num_attention_heads": hidden // head_dim,
        "joint_attention_dim": shape(state_dict, "context_embedder.weight")[1],
        "pooled_projection_dim": shape(state_dict, "time_text_embed.text_embedder.linear_1.weight")[1],
        "guidance_embeds": "time_text_embed.guidance_embedder.linear_1.weight" in state_dict,
        "axes_dims_rope": tuple(flux.rope_axes(head_dim)),
    }


def load_instantx(control: formats.ControlFormat, source_name: str, dtype: torch.dtype | None) -> ControlNet:
    """The CONTROL_NET of an InstantX FLUX.1 ControlNet (diffusers' `FluxControlNetModel` layout): it reads the
    VAE-encoded hint in FLUX.1's latent scale, so its apply node needs a VAE."""
    from diffusers import FluxControlNetModel

    import comfy.latent_formats

    state_dict = control.state_dict
    if INSTANTX_MODE_EMBEDDER in state_dict:
        raise WeightLoadError(f"{source_name}: InstantX's FLUX.1 ControlNet-union is not supported yet")
    config = instantx_config(state_dict)
    if config["in_channels"] != shape(state_dict, "controlnet_x_embedder.weight")[1]:
        raise WeightLoadError(f"{source_name}: InstantX FLUX.1 ControlNets with a mask input (Alimama's "
                              "inpainting net) are not supported yet")
    network = load_checked(FluxControlNetModel, config, state_dict, dict(state_dict), "FLUX.1 InstantX ControlNet",
                           source_name, dtype)
    result = ControlNet(InstantXControlNetwork(network), compression_ratio=1,
                        latent_format=comfy.latent_formats.Flux(), extra_conds=["y", "guidance"])
    result.made_for = "FLUX.1"
    return result


def load(control: formats.ControlFormat, source_name: str, dtype: torch.dtype | None) -> ControlNet:
    """The CONTROL_NET of a FLUX.1 ControlNet (`flux_xlabs`, `flux_instantx`; Mistoline's is not supported
    yet)."""
    if control.kind == "flux_xlabs":
        return load_xlabs(control, source_name, dtype)
    if control.kind == "flux_instantx":
        return load_instantx(control, source_name, dtype)
    raise WeightLoadError(f"{source_name}: FLUX.1 ControlNets in the {control.kind} layout are not supported yet")


def _patches(tensor: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, (H/2)(W/2), C*4]: 2x2 patches as tokens (padded to even sizes as the model pads)."""
    from comfy.model_base import pad_to_patch_size

    tensor = pad_to_patch_size(tensor, flux.PATCH_SIZE)
    batch, channels = tensor.shape[:2]
    rows, columns = tensor.shape[-2] // 2, tensor.shape[-1] // 2
    return (tensor.reshape(batch, channels, rows, 2, columns, 2).permute(0, 2, 4, 1, 3, 5)
            .reshape(batch, rows * columns, channels * 4))


def _run(network: torch.nn.Module, x: torch.Tensor, control_tokens: torch.Tensor, timesteps: torch.Tensor,
         context: torch.Tensor, y: torch.Tensor | None, guidance: torch.Tensor | None
         ) -> tuple[list[torch.Tensor] | None, list[torch.Tensor] | None]:
    """A `FluxControlNetModel` on the model input x [B, 16, h, w] and the control tokens: (double block outputs,
    single block outputs), as the FLUX.1 model itself places its tokens (positions (0, row, column))."""
    config = network.config
    batch, _, height, width = x.shape
    tokens = _patches(x)
    rows, columns = (height + 1) // 2, (width + 1) // 2
    image_ids = torch.zeros((rows, columns, 3), device=x.device)
    image_ids[..., 1] = torch.arange(rows, device=x.device, dtype=torch.float32)[:, None]
    image_ids[..., 2] = torch.arange(columns, device=x.device, dtype=torch.float32)[None, :]
    text_ids = torch.zeros((context.shape[1], 3), device=x.device)
    if y is None:
        y = torch.zeros((batch, int(config.pooled_projection_dim)), device=x.device, dtype=x.dtype)
    return network(hidden_states=tokens, controlnet_cond=control_tokens, encoder_hidden_states=context,
                   pooled_projections=y[:, :int(config.pooled_projection_dim)], timestep=timesteps.expand(batch),
                   img_ids=image_ids.reshape(rows * columns, 3), txt_ids=text_ids,
                   guidance=guidance if config.guidance_embeds else None, return_dict=False)


class InstantXControlNetwork(torch.nn.Module):
    """ComfyUI's control-model interface over an InstantX FLUX.1 ControlNet: like `XLabsControlNetwork`, but the
    hint is the encoded latent [B, 16, h, w] (model space) and each block's output is repeated in place (block i
    feeds ceil(19 / n) consecutive double blocks; the same for single blocks over 38)."""

    def __init__(self, network: torch.nn.Module):
        super().__init__()
        self.network = network

    @property
    def dtype(self) -> torch.dtype:
        return next(self.network.parameters()).dtype

    def forward(self, x: torch.Tensor, hint: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor,
                y: torch.Tensor | None = None, guidance: torch.Tensor | None = None, **_: Any) -> dict[str, list]:
        double, single = _run(self.network, x, _patches(hint), timesteps, context, y, guidance)
        output = {"input": _each_repeated(double, FULL_DOUBLE_BLOCKS)}
        if single:
            output["output"] = _each_repeated(single, FULL_SINGLE_BLOCKS)
        return output


class XLabsControlNetwork(torch.nn.Module):
    """ComfyUI's control-model interface over an XLabs ControlNet: `forward(x, hint, timesteps, context, y,
    guidance)` -> {"input": per double block, "output": per single block}. x: the model input [B, 16, h, w];
    hint: [B, 3, 8h, 8w] in 0..1; timesteps: sigma [B]; context: T5 tokens [B, L, 4096]; y: the pooled CLIP-L
    vector; guidance: FLUX.1-dev's guidance strength [B]."""

    def __init__(self, network: torch.nn.Module, encoder: HintEncoder):
        super().__init__()
        self.network = network
        self.encoder = encoder

    @property
    def dtype(self) -> torch.dtype:
        return next(self.network.parameters()).dtype

    def forward(self, x: torch.Tensor, hint: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor,
                y: torch.Tensor | None = None, guidance: torch.Tensor | None = None, **_: Any) -> dict[str, list]:
        control_tokens = _patches(self.encoder(hint * 2.0 - 1.0))
        double, single = _run(self.network, x, control_tokens, timesteps, context, y, guidance)
        output = {"input": _repeated(double, FULL_DOUBLE_BLOCKS)}
        if single:
            output["output"] = _repeated(single, FULL_SINGLE_BLOCKS)
        return output


def _repeated(samples: list[torch.Tensor] | None, length: int) -> list[torch.Tensor]:
    """The sequence repeated whole until it has `length` entries (ComfyUI's XLabs mapping)."""
    if not samples:
        return []
    return (list(samples) * math.ceil(length / len(samples)))[:length]


def _each_repeated(samples: list[torch.Tensor] | None, length: int) -> list[torch.Tensor]:
    """Each entry repeated in place, ceil(length / n) times, cut to `length` (ComfyUI's InstantX mapping)."""
    if not samples:
        return []
    times = math.ceil(length / len(samples))
    return [sample for sample in samples for _ in range(times)][:length]


__all__ = ["HintEncoder", "InstantXControlNetwork", "XLabsControlNetwork", "instantx_config", "load",
           "load_instantx", "load_xlabs"]
