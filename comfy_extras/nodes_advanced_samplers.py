"""Two experimental samplers as SAMPLER nodes: Euler with CFG++ (Chung et al. 2024, "CFG++: Manifold-constrained
Classifier Free Guidance for Diffusion Models", arXiv 2406.08070), in k-diffusion's form or an alternative one,
and an LCM sampler that enlarges the latent over its first steps (SamplerLCMUpscale)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import trange

import comfy.samplers
import node_helpers
from comfy.k_diffusion.common import capture_uncond_denoised, to_d
from comfy_api.latest import ComfyExtension, io

__all__ = ["AdvancedSamplersExtension", "SamplerEulerCFGpp", "SamplerLCMUpscale", "comfy_entrypoint",
           "sample_euler_pp", "sample_lcm_upscale"]

_UPSCALE_METHODS = ["bislerp", "nearest-exact", "bilinear", "area", "bicubic"]


@torch.no_grad()
def sample_lcm_upscale(model, x, sigmas, extra_args=None, callback=None, disable=None, total_upscale=2.0,
                       upscale_method="bislerp", upscale_steps=None):
    """LCM sampling (each step jumps to the denoised estimate, then re-noises to the next sigma) that resizes the
    estimate after each of its first steps, in equal increments, until it is `total_upscale` times the input's
    size. `upscale_steps` (None: about half the steps) is how many steps resize.

    The re-noising draws from torch's global generator, as ComfyUI does: the generator is where the seeded
    initial noise left it (`comfy.sample.prepare_noise` reseeds it), so a run is reproducible from its seed."""
    extra_args = {} if extra_args is None else extra_args
    if upscale_steps is None:
        upscale_steps = max(len(sigmas) // 2 + 1, 2)
    else:
        upscale_steps = min(upscale_steps + 1, len(sigmas) + 1)
    upscales = np.linspace(1.0, total_upscale, upscale_steps)[1:]
    height, width = x.shape[-2], x.shape[-1]
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        x = denoised
        if i < len(upscales):
            x = node_helpers.upscale(x, round(width * upscales[i]), round(height * upscales[i]), upscale_method,
                                     "disabled")
        if sigmas[i + 1] > 0:
            # drawn in (B, C, H, W) order whatever the memory layout the resize left x in
            noise = torch.randn(x.shape, dtype=x.dtype).to(x.device)
            x = x + sigmas[i + 1] * noise
    return x


@torch.no_grad()
def sample_euler_pp(model, x, sigmas, extra_args=None, callback=None, disable=None):
    """The alternative Euler CFG++: an Euler step whose derivative adds the gap between the unconditional and the
    guided estimate to the usual one, (x - 2·denoised + uncond) / sigma."""
    extra_args = {} if extra_args is None else extra_args
    uncond = capture_uncond_denoised(extra_args)
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        sigma_hat = sigmas[i]
        denoised = model(x, sigma_hat * s_in, **extra_args)
        d = to_d(x - denoised + uncond[0], sigma_hat, denoised)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigma_hat, "denoised": denoised})
        # Euler method
        x = x + d * (sigmas[i + 1] - sigma_hat)
    return x


class SamplerLCMUpscale(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SamplerLCMUpscale",
            category="sampling/custom_sampling/samplers",
            inputs=[
                io.Float.Input("scale_ratio", default=1.0, min=0.1, max=20.0, step=0.01),
                io.Int.Input("scale_steps", default=-1, min=-1, max=1000, step=1),
                io.Combo.Input("upscale_method", options=_UPSCALE_METHODS),
            ],
            outputs=[io.Sampler.Output()])

    @classmethod
    def execute(cls, scale_ratio, scale_steps, upscale_method) -> io.NodeOutput:
        options = {"total_upscale": scale_ratio, "upscale_steps": None if scale_steps < 0 else scale_steps,
                   "upscale_method": upscale_method}
        return io.NodeOutput(comfy.samplers.KSAMPLER(sample_lcm_upscale, extra_options=options))


class SamplerEulerCFGpp(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SamplerEulerCFGpp",
            display_name="SamplerEulerCFG++",
            category="_for_testing",
            inputs=[io.Combo.Input("version", options=["regular", "alternative"])],
            outputs=[io.Sampler.Output()],
            is_experimental=True)

    @classmethod
    def execute(cls, version) -> io.NodeOutput:
        if version == "alternative":
            return io.NodeOutput(comfy.samplers.KSAMPLER(sample_euler_pp))
        return io.NodeOutput(comfy.samplers.ksampler("euler_cfg_pp"))


class AdvancedSamplersExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [SamplerLCMUpscale, SamplerEulerCFGpp]


async def comfy_entrypoint() -> AdvancedSamplersExtension:
    return AdvancedSamplersExtension()
