"""SD3 ControlNets in diffusers' layout (`SD3ControlNetModel`: `pos_embed_input`, `transformer_blocks.N`,
`controlnet_blocks.N`), run as ComfyUI 0.3.64 runs them.

The network is diffusers' `SD3ControlNetModel`, its config read off the weights' shapes. What ComfyUI does around
it, and this module repeats: the hint is the VAE-encoded image scaled by SD3's factor with no shift
(`CONTROL_LATENT_FORMAT`); the pooled text vector is replaced by zeros; each control block's output is repeated so
that a net of n blocks feeds `depth - 1` joint blocks of the model (`depth` = the net's width / 64, as the
MMDiT's own rule): block i's output goes to `depth // n` consecutive joint blocks, the last block's to one fewer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

import comfy.latent_formats
from comfy.families.shapes import count_indices, shape
from comfy.families.weights import load_checked
from comfy.guidance import formats
from comfy.guidance.control import ControlNet

# The MMDiT's width per unit of depth (SD3's hidden size is 64 * depth) and its attention head width.
_WIDTH_PER_DEPTH = 64
_HEAD_DIM = 64


class _SD3ControlLatentFormat(comfy.latent_formats.SD3):
    """SD3's latent scale without its shift: how SD3 ControlNets read their VAE-encoded hint."""

    shift_factor = 0.0


def diffusers_config(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The `SD3ControlNetModel` config of a diffusers-layout SD3 ControlNet, from its shapes."""
    hidden, in_channels, patch_size, _ = shape(state_dict, "pos_embed.proj.weight")
    positions = shape(state_dict, "pos_embed.pos_embed")[1]
    qk_norm = "rms_norm" if "transformer_blocks.0.attn.norm_q.weight" in state_dict else None
    blocks = count_indices(state_dict, r"transformer_blocks\.(\d+)\.")
    return {
        "patch_size": patch_size, "in_channels": in_channels, "num_layers": blocks,
        "attention_head_dim": _HEAD_DIM, "num_attention_heads": hidden // _HEAD_DIM,
        "joint_attention_dim": shape(state_dict, "context_embedder.weight")[1], "caption_projection_dim": hidden,
        "pooled_projection_dim": shape(state_dict, "time_text_embed.text_embedder.linear_1.weight")[1],
        "out_channels": in_channels, "pos_embed_max_size": math.isqrt(positions),
        "extra_conditioning_channels": shape(state_dict, formats.SD3_HINT_EMBEDDER)[1] - in_channels,
        "qk_norm": qk_norm,
        "dual_attention_layers": tuple(index for index in range(blocks)
                                       if f"transformer_blocks.{index}.attn2.to_q.weight" in state_dict),
    }


def load(control: formats.ControlFormat, source_name: str, dtype: torch.dtype | None) -> ControlNet:
    """The CONTROL_NET of a diffusers-layout SD3 ControlNet (`sd3_diffusers`)."""
    from comfy.families.base import WeightLoadError

    if control.kind != "sd3_diffusers":
        raise WeightLoadError(f"{source_name}: Stability's SD3.5 ControlNets are not supported yet")
    from diffusers import SD3ControlNetModel

    state_dict = control.state_dict
    config = diffusers_config(state_dict)
    network = load_checked(SD3ControlNetModel, config, state_dict, dict(state_dict), "SD3 ControlNet", source_name,
                           dtype)
    depth = config["num_attention_heads"] * _HEAD_DIM // _WIDTH_PER_DEPTH
    result = ControlNet(MMDiTControlNetwork(network, depth), compression_ratio=1,
                        latent_format=_SD3ControlLatentFormat(), concat_mask=config["extra_conditioning_channels"] > 0)
    result.made_for = "SD3"
    return result


class MMDiTControlNetwork(torch.nn.Module):
    """ComfyUI's control-model interface over a diffusers `SD3ControlNetModel`: `forward(x, hint, timesteps,
    context, y)` -> {"output": one residual per joint block of the model}. x: the model input [B, 16, h, w];
    hint: the encoded hint [B, 16, h, w] (model space, no shift); timesteps: sigma * 1000 [B]; context: the text
    tokens [B, L, 4096]; y: the pooled vector (ignored: SD3 ControlNets see zeros)."""

    def __init__(self, network: torch.nn.Module, depth: int):
        super().__init__()
        self.network = network
        self.depth = depth

    @property
    def dtype(self) -> torch.dtype:
        return next(self.network.parameters()).dtype

    def forward(self, x: torch.Tensor, hint: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor,
                y: torch.Tensor | None = None, **_: Any) -> dict[str, list]:
        pooled = torch.zeros((x.shape[0], int(self.network.config.pooled_projection_dim)), device=x.device,
                             dtype=x.dtype)
        (samples,) = self.network(x, hint, encoder_hidden_states=context, pooled_projections=pooled,
                                  timestep=timesteps.expand(x.shape[0]), return_dict=False)
        output: list[torch.Tensor] = []
        per_block = self.depth // len(samples)
        for index, sample in enumerate(samples):
            output += [sample] * (per_block - (1 if index == len(samples) - 1 else 0))
        return {"output": output}


__all__ = ["MMDiTControlNetwork", "diffusers_config", "load"]
