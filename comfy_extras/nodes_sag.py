"""Self-Attention Guidance (Hong et al. 2023, "Improving Sample Quality of Diffusion Models Using Self-Attention
Guidance", arXiv 2210.00939).

The self-attention of the UNet's middle block is replaced by one that also keeps the unconditional pass's
attention weights. After CFG, the regions of the unconditional estimate that the middle block attends to most
(attention received, averaged over heads and summed over queries, above 1) are blurred, the blurred estimate is
noised back to the current sigma with the step's own noise and run through the model once more (unconditional),
and the guided estimate moves away from that degraded prediction: denoised + scale · (blurred - prediction).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

import comfy.ldm.modules.attention
import comfy.samplers
from comfy_api.latest import ComfyExtension, io

__all__ = ["SagExtension", "SelfAttentionGuidance", "attention_basic_with_sim", "comfy_entrypoint",
           "create_blur_map", "gaussian_blur_2d"]

# The attention received by a middle-block token above which SAG blurs it.
_THRESHOLD = 1.0


def attention_basic_with_sim(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int,
                             mask: torch.Tensor | None = None,
                             attn_precision: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention as written, returning its weights too: (out `[B, Nq, heads·d]`, softmax weights
    `[B·heads, Nq, Nk]`, batch-major). q, k and v are `[B, N, heads·d]`; the scores are computed in float32 when
    `attn_precision` is float32, else in q's dtype; `mask` is boolean `[B, ...]` over the keys (True: attend)."""
    batch, _, width = q.shape
    dim_head = width // heads

    def per_head(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(batch, -1, heads, dim_head).permute(0, 2, 1, 3).reshape(batch * heads, -1, dim_head)

    q, k, v = per_head(q), per_head(k), per_head(v)
    if attn_precision == torch.float32:
        q, k = q.float(), k.float()
    scores = torch.bmm(q, k.transpose(1, 2)) * dim_head ** -0.5
    if mask is not None:
        keep = mask.reshape(mask.shape[0], 1, -1).repeat_interleave(heads, dim=0)
        scores = scores.masked_fill(~keep, -torch.finfo(scores.dtype).max)
    weights = scores.softmax(dim=-1)
    out = torch.bmm(weights.to(v.dtype), v)
    out = out.reshape(batch, heads, -1, dim_head).permute(0, 2, 1, 3).reshape(batch, -1, heads * dim_head)
    return out, weights


def gaussian_blur_2d(img: torch.Tensor, kernel_size: int, sigma: float) -> torch.Tensor:
    """`img` `[B, C, H, W]` blurred channel by channel with a `kernel_size`² Gaussian of std `sigma` (pixels),
    its borders reflected."""
    half = (kernel_size - 1) * 0.5
    positions = torch.linspace(-half, half, steps=kernel_size)
    density = torch.exp(-0.5 * (positions / sigma).pow(2))
    kernel_1d = (density / density.sum()).to(device=img.device, dtype=img.dtype)
    kernel_2d = torch.mm(kernel_1d[:, None], kernel_1d[None, :])
    channels = img.shape[-3]
    kernel = kernel_2d.expand(channels, 1, kernel_size, kernel_size)
    pad = kernel_size // 2
    return F.conv2d(F.pad(img, [pad, pad, pad, pad], mode="reflect"), kernel, groups=channels)


def _map_rows(tokens: int, height: int, width: int) -> int:
    """The number of rows of an attention map of `tokens` tokens over a `height` × `width` latent: the divisor of
    `tokens` nearest to the latent's proportion (searching outwards from it)."""
    guess = round(math.sqrt((height / width) * tokens))
    for distance in range(math.floor(math.sqrt(tokens) / 2)):
        for rows in (guess + distance, max(1, guess - distance)):
            if tokens % rows == 0:
                return rows
    raise ValueError(f"Self-Attention Guidance cannot lay out the middle block's {tokens}-token attention map of a "
                     f"{height}x{width} latent; use a larger image (at least 16x16 latent pixels, 128x128 for SD).")


def create_blur_map(x0: torch.Tensor, attn: torch.Tensor, sigma: float = 3.0, threshold: float = 1.0
                    ) -> torch.Tensor:
    """`x0` `[B, C, H, W]` blurred (9×9 Gaussian of std `sigma`) where the attention weights `attn`
    `[B·heads, N, N]` say a token receives more than `threshold` attention in total (mean over heads)."""
    _, queries, keys = attn.shape
    batch, _, height, width = x0.shape
    received = attn.reshape(batch, -1, queries, keys).mean(1).sum(1)
    mask = received > threshold
    rows = _map_rows(mask.shape[-1], height, width)
    mask = mask.reshape(batch, rows, mask.shape[-1] // rows).unsqueeze(1).type(attn.dtype)
    mask = F.interpolate(mask, (height, width))
    blurred = gaussian_blur_2d(x0, kernel_size=9, sigma=sigma)
    return blurred * mask + x0 * (1 - mask)


class SelfAttentionGuidance(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="SelfAttentionGuidance", display_name="Self-Attention Guidance",
                         category="_for_testing",
                         inputs=[io.Model.Input("model"),
                                 io.Float.Input("scale", default=0.5, min=-2.0, max=5.0, step=0.01),
                                 io.Float.Input("blur_sigma", default=2.0, min=0.0, max=10.0, step=0.1)],
                         outputs=[io.Model.Output()], is_experimental=True)

    @classmethod
    def execute(cls, model: Any, scale: float, blur_sigma: float) -> io.NodeOutput:
        # the middle block's attention weights in the last model call that had an unconditional pass
        uncond_weights: torch.Tensor | None = None

        def attend_and_record(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict
                              ) -> torch.Tensor:
            nonlocal uncond_weights
            heads = extra_options["n_heads"]
            cond_or_uncond = extra_options["cond_or_uncond"]
            if 1 not in cond_or_uncond:
                return comfy.ldm.modules.attention.optimized_attention(
                    q, k, v, heads=heads, attn_precision=extra_options["attn_precision"])
            out, weights = attention_basic_with_sim(q, k, v, heads=heads,
                                                    attn_precision=extra_options["attn_precision"])
            # the batch is made of equal chunks, one per entry of cond_or_uncond
            per_chunk = heads * (q.shape[0] // len(cond_or_uncond))
            chunk = cond_or_uncond.index(1)
            uncond_weights = weights[per_chunk * chunk:per_chunk * (chunk + 1)]
            return out

        def guide_away_from_blur(args: dict) -> torch.Tensor:
            denoised = args["denoised"]
            if min(denoised.shape[2:]) <= 4:  # too small for the blur's reflected border
                return denoised
            uncond_denoised = args["uncond_denoised"]
            degraded = create_blur_map(uncond_denoised, uncond_weights, blur_sigma, _THRESHOLD)
            # noised back with the noise the step's input holds
            degraded_noised = degraded + args["input"] - uncond_denoised
            (prediction,) = comfy.samplers.calc_cond_batch(args["model"], [args["uncond"]], degraded_noised,
                                                           args["sigma"], args["model_options"])
            return denoised + (degraded - prediction) * scale

        patched = model.clone()
        patched.set_model_sampler_post_cfg_function(guide_away_from_blur, disable_cfg1_optimization=True)
        patched.set_model_attn1_replace(attend_and_record, "middle", 0, 0)
        return io.NodeOutput(patched)


class SagExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [SelfAttentionGuidance]


async def comfy_entrypoint() -> SagExtension:
    return SagExtension()
