"""FreSca (Huang et al. 2025, "FreSca: Unveiling the Scaling Space in Diffusion Models", arXiv 2504.02154): the
guidance `cond - uncond` is scaled separately in its low and high spatial frequencies before CFG.

A `sampler_pre_cfg_function` on a clone of the model; estimates are `[B, C, H, W]` denoised latents.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy_api.latest import ComfyExtension, io

__all__ = ["Fourier_filter", "FreSca", "FreScaExtension", "comfy_entrypoint"]


def Fourier_filter(x: torch.Tensor, scale_low: float = 1.0, scale_high: float = 1.5,  # noqa: N802 - ComfyUI's name
                   freq_cutoff: int = 20) -> torch.Tensor:
    """`x` `[B, C, H, W]` with its 2-D spectrum (centred) multiplied by `scale_low` inside the square of
    half-width `freq_cutoff` around the centre and by `scale_high` elsewhere; computed in float32.

    The square is taken as the index range `centre - freq_cutoff : centre + freq_cutoff` with Python's slice
    rules, as ComfyUI does: a start below zero counts from the end."""
    spectrum = torch.fft.fftshift(torch.fft.fftn(x.float(), dim=(-2, -1)), dim=(-2, -1))
    height, width = spectrum.shape[-2:]
    mask = torch.full(spectrum.shape, float(scale_high), device=x.device)
    row, column = height // 2, width // 2
    mask[..., row - freq_cutoff:row + freq_cutoff, column - freq_cutoff:column + freq_cutoff] = scale_low
    spectrum = torch.fft.ifftshift(spectrum * mask, dim=(-2, -1))
    return torch.fft.ifftn(spectrum, dim=(-2, -1)).real.to(x.dtype)


class FreSca(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FreSca",
            display_name="FreSca",
            category="_for_testing",
            description="Applies frequency-dependent scaling to the guidance",
            inputs=[
                io.Model.Input("model"),
                io.Float.Input("scale_low", default=1.0, min=0, max=10, step=0.01,
                               tooltip="Scaling factor for low-frequency components"),
                io.Float.Input("scale_high", default=1.25, min=0, max=10, step=0.01,
                               tooltip="Scaling factor for high-frequency components"),
                io.Int.Input("freq_cutoff", default=20, min=1, max=10000, step=1,
                             tooltip="Number of frequency indices around center to consider as low-frequency"),
            ],
            outputs=[io.Model.Output()],
            is_experimental=True)

    @classmethod
    def execute(cls, model: Any, scale_low: float, scale_high: float, freq_cutoff: int) -> io.NodeOutput:
        def frequency_scaled_guidance(args: dict) -> list:
            conds_out = args["conds_out"]
            if len(conds_out) <= 1 or None in args["conds"][:2]:
                return conds_out
            cond, uncond = conds_out[0], conds_out[1]
            guidance = Fourier_filter(cond - uncond, scale_low=scale_low, scale_high=scale_high,
                                      freq_cutoff=freq_cutoff)
            return [guidance + uncond, uncond] + list(conds_out[2:])

        patched = model.clone()
        patched.set_model_sampler_pre_cfg_function(frequency_scaled_guidance)
        return io.NodeOutput(patched)


class FreScaExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [FreSca]


async def comfy_entrypoint() -> FreScaExtension:
    return FreScaExtension()
