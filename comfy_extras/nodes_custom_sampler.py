"""Custom sampling nodes: build a sampling run from parts (noise, guider, sampler, sigma schedule) instead of
KSampler's fixed recipe.

Types that flow between these nodes:
- SAMPLER: a `comfy.samplers.KSAMPLER` (from `comfy.samplers.sampler_object`).
- SIGMAS: a 1-D float32 tensor of noise levels, descending, usually ending in 0 (steps + 1 values).
- NOISE: an object with `.seed` and `generate_noise(latent_dict)` → unit noise shaped like `latent["samples"]`.
- GUIDER: a `comfy.samplers.CFGGuider` (or subclass) holding the model patcher and its conditioning.
"""

from __future__ import annotations

from typing import Any

import torch

import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.utils
import latent_preview
from comfy.k_diffusion import sampling as k_diffusion_sampling

_SEED_OPTIONS = {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": True}
_SIGMA_OPTIONS = {"min": 0.0, "max": 5000.0, "step": 0.01, "round": False}


# ---------------------------------------------------------------------------------------------- noise objects


class Noise_EmptyNoise:
    """No noise: zeros shaped like the latent (sampling then starts from the latent itself)."""

    def __init__(self) -> None:
        self.seed = 0

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        latent_image = input_latent["samples"]
        return torch.zeros(latent_image.shape, dtype=latent_image.dtype, layout=latent_image.layout, device="cpu")


class Noise_RandomNoise:
    """Seeded unit noise exactly as KSampler draws it (`comfy.sample.prepare_noise`, honouring `batch_index`)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        return comfy.sample.prepare_noise(input_latent["samples"], self.seed, input_latent.get("batch_index"))


# ---------------------------------------------------------------------------------------------- guiders


class Guider_Basic(comfy.samplers.CFGGuider):
    """Guidance by one conditioning alone (no negative, no CFG): for models distilled to need none."""

    def set_conds(self, positive: list) -> None:  # type: ignore[override]
        self.inner_set_conds({"positive": positive})


# ---------------------------------------------------------------------------------------------- shared sampling


def _denoised_output(model: Any, latent: dict, output: dict, x0_output: dict) -> dict:
    """The last step's x0 estimate as a latent (VAE space), or the output itself when no step ran."""
    if "x0" not in x0_output:
        return output
    denoised = latent.copy()
    denoised["samples"] = model.model.process_latent_out(x0_output["x0"].cpu())
    return denoised


def _prepared_latent(model: Any, latent_image: dict) -> dict:
    """A shallow copy of the LATENT with an empty latent widened to the model's channel count."""
    latent = latent_image.copy()
    latent["samples"] = comfy.sample.fix_empty_latent_channels(model, latent_image["samples"])
    return latent


def _sample_with_guider(guider: Any, noise: Any, sampler: Any, sigmas: torch.Tensor,
                        latent_image: dict) -> tuple[dict, dict]:
    """Run `guider` over `sigmas` from `noise`; returns (output, denoised_output) LATENTs."""
    model = guider.model_patcher
    latent = _prepared_latent(model, latent_image)
    x0_output: dict = {}
    callback = latent_preview.prepare_callback(model, sigmas.shape[-1] - 1, x0_output)
    comfy.model_management.load_models_gpu([model])
    samples = guider.sample(noise.generate_noise(latent), latent["samples"], sampler, sigmas,
                            denoise_mask=latent.get("noise_mask"), callback=callback,
                            disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=noise.seed)
    output = latent.copy()
    output["samples"] = samples.to(comfy.model_management.intermediate_device())
    return output, _denoised_output(model, latent, output, x0_output)


# ---------------------------------------------------------------------------------------------- samplers


class SamplerCustom:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL", {"tooltip": "The model that denoises the latent."}),
            "add_noise": ("BOOLEAN", {"default": True, "tooltip": "Add seeded noise first; off to continue a "
                                                                  "latent that already holds noise."}),
            "noise_seed": ("INT", {**_SEED_OPTIONS, "tooltip": "Seed of the random noise."}),
            "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01,
                              "tooltip": "Classifier-free guidance scale."}),
            "positive": ("CONDITIONING", {"tooltip": "What the image should contain."}),
            "negative": ("CONDITIONING", {"tooltip": "What the image should not contain."}),
            "sampler": ("SAMPLER", {"tooltip": "The sampling algorithm."}),
            "sigmas": ("SIGMAS", {"tooltip": "The noise levels to step through."}),
            "latent_image": ("LATENT", {"tooltip": "The latent to denoise."}),
        }}

    RETURN_TYPES = ("LATENT", "LATENT")
    RETURN_NAMES = ("output", "denoised_output")
    FUNCTION = "sample"
    CATEGORY = "sampling/custom_sampling"
    DESCRIPTION = "Denoises a latent with CFG, an explicit sampler and an explicit sigma schedule."

    def sample(self, model, add_noise, noise_seed, cfg, positive, negative, sampler, sigmas, latent_image):
        noise = Noise_RandomNoise(noise_seed) if add_noise else Noise_EmptyNoise()
        guider = comfy.samplers.CFGGuider(model)
        guider.set_conds(positive, negative)
        guider.set_cfg(cfg)
        # ComfyUI passes the node's seed to the sampler even with noise off (ancestral step noise uses it).
        noise.seed = noise_seed
        return _sample_with_guider(guider, noise, sampler, sigmas, latent_image)


class SamplerCustomAdvanced:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "noise": ("NOISE", {"tooltip": "The initial noise (RandomNoise or DisableNoise)."}),
            "guider": ("GUIDER", {"tooltip": "The model with its conditioning and guidance."}),
            "sampler": ("SAMPLER", {"tooltip": "The sampling algorithm."}),
            "sigmas": ("SIGMAS", {"tooltip": "The noise levels to step through."}),
            "latent_image": ("LATENT", {"tooltip": "The latent to denoise."}),
        }}

    RETURN_TYPES = ("LATENT", "LATENT")
    RETURN_NAMES = ("output", "denoised_output")
    FUNCTION = "sample"
    CATEGORY = "sampling/custom_sampling"
    DESCRIPTION = "Denoises a latent from separately built noise, guider, sampler and sigmas."

    def sample(self, noise, guider, sampler, sigmas, latent_image):
        return _sample_with_guider(guider, noise, sampler, sigmas, latent_image)


class KSamplerSelect:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"sampler_name": (comfy.samplers.SAMPLER_NAMES, {"tooltip": "The sampling algorithm."})}}

    RETURN_TYPES = ("SAMPLER",)
    FUNCTION = "get_sampler"
    CATEGORY = "sampling/custom_sampling/samplers"

    def get_sampler(self, sampler_name):
        return (comfy.samplers.sampler_object(sampler_name),)


# ---------------------------------------------------------------------------------------------- schedules


class BasicScheduler:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL", {"tooltip": "The model whose noise schedule is sampled."}),
            "scheduler": (comfy.samplers.SCHEDULER_NAMES, {"tooltip": "How the noise levels are spaced."}),
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000, "tooltip": "Number of steps."}),
            "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01,
                                  "tooltip": "Fraction of the schedule to run (the low-noise end)."}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, model, scheduler, steps, denoise):
        total_steps = steps
        if denoise < 1.0:
            if denoise <= 0.0:
                return (torch.FloatTensor([]),)
            # A partial denoise is the tail of a longer schedule, so its steps keep the full schedule's spacing.
            total_steps = int(steps / denoise)
        sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), scheduler,
                                                 total_steps).cpu()
        return (sigmas[-(steps + 1):],)


class KarrasScheduler:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "sigma_max": ("FLOAT", {"default": 14.614642, **_SIGMA_OPTIONS}),
            "sigma_min": ("FLOAT", {"default": 0.0291675, **_SIGMA_OPTIONS}),
            "rho": ("FLOAT", {"default": 7.0, "min": 0.0, "max": 100.0, "step": 0.01, "round": False}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, steps, sigma_max, sigma_min, rho):
        return (k_diffusion_sampling.get_sigmas_karras(n=steps, sigma_min=sigma_min, sigma_max=sigma_max, rho=rho),)


class ExponentialScheduler:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "sigma_max": ("FLOAT", {"default": 14.614642, **_SIGMA_OPTIONS}),
            "sigma_min": ("FLOAT", {"default": 0.0291675, **_SIGMA_OPTIONS}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, steps, sigma_max, sigma_min):
        return (k_diffusion_sampling.get_sigmas_exponential(n=steps, sigma_min=sigma_min, sigma_max=sigma_max),)


# ---------------------------------------------------------------------------------------------- sigma tools


class SplitSigmas:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "sigmas": ("SIGMAS",),
            "step": ("INT", {"default": 0, "min": 0, "max": 10000,
                             "tooltip": "Where to cut; both halves share the sigma at this index."}),
        }}

    RETURN_TYPES = ("SIGMAS", "SIGMAS")
    RETURN_NAMES = ("high_sigmas", "low_sigmas")
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/sigmas"

    def get_sigmas(self, sigmas, step):
        return (sigmas[: step + 1], sigmas[step:])


class SplitSigmasDenoise:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "sigmas": ("SIGMAS",),
            "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01,
                                  "tooltip": "Fraction of the steps that go to low_sigmas."}),
        }}

    RETURN_TYPES = ("SIGMAS", "SIGMAS")
    RETURN_NAMES = ("high_sigmas", "low_sigmas")
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/sigmas"

    def get_sigmas(self, sigmas, denoise):
        steps = max(sigmas.shape[-1] - 1, 0)
        total_steps = round(steps * denoise)
        # As in ComfyUI, denoise 0 gives an empty high half (a slice up to -0).
        return (sigmas[:-total_steps], sigmas[-(total_steps + 1):])


class FlipSigmas:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"sigmas": ("SIGMAS",)}}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/sigmas"

    def get_sigmas(self, sigmas):
        if len(sigmas) == 0:
            return (sigmas,)
        sigmas = sigmas.flip(0)
        if sigmas[0] == 0:
            sigmas[0] = 0.0001  # a schedule may not start at exactly 0 (the sampler would divide by it)
        return (sigmas,)


# ---------------------------------------------------------------------------------------------- noise and guider nodes


class RandomNoise:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"noise_seed": ("INT", {**_SEED_OPTIONS, "tooltip": "Seed of the random noise."})}}

    RETURN_TYPES = ("NOISE",)
    FUNCTION = "get_noise"
    CATEGORY = "sampling/custom_sampling/noise"

    def get_noise(self, noise_seed):
        return (Noise_RandomNoise(noise_seed),)


class DisableNoise:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    RETURN_TYPES = ("NOISE",)
    FUNCTION = "get_noise"
    CATEGORY = "sampling/custom_sampling/noise"

    def get_noise(self):
        return (Noise_EmptyNoise(),)


class BasicGuider:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "conditioning": ("CONDITIONING",)}}

    RETURN_TYPES = ("GUIDER",)
    FUNCTION = "get_guider"
    CATEGORY = "sampling/custom_sampling/guiders"

    def get_guider(self, model, conditioning):
        guider = Guider_Basic(model)
        guider.set_conds(conditioning)
        return (guider,)


class CFGGuider:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "positive": ("CONDITIONING",),
            "negative": ("CONDITIONING",),
            "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}),
        }}

    RETURN_TYPES = ("GUIDER",)
    FUNCTION = "get_guider"
    CATEGORY = "sampling/custom_sampling/guiders"

    def get_guider(self, model, positive, negative, cfg):
        guider = comfy.samplers.CFGGuider(model)
        guider.set_conds(positive, negative)
        guider.set_cfg(cfg)
        return (guider,)


NODE_CLASS_MAPPINGS = {
    "SamplerCustom": SamplerCustom,
    "SamplerCustomAdvanced": SamplerCustomAdvanced,
    "KSamplerSelect": KSamplerSelect,
    "BasicScheduler": BasicScheduler,
    "KarrasScheduler": KarrasScheduler,
    "ExponentialScheduler": ExponentialScheduler,
    "SplitSigmas": SplitSigmas,
    "SplitSigmasDenoise": SplitSigmasDenoise,
    "FlipSigmas": FlipSigmas,
    "RandomNoise": RandomNoise,
    "DisableNoise": DisableNoise,
    "BasicGuider": BasicGuider,
    "CFGGuider": CFGGuider,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = 'Kiln does not implement this `nodes_custom_sampler` node yet'

AddNoise = unsupported_class(__name__, 'AddNoise', None, _REASON)
BetaSamplingScheduler = unsupported_class(__name__, 'BetaSamplingScheduler', None, _REASON)
DualCFGGuider = unsupported_class(__name__, 'DualCFGGuider', None, _REASON)
ExtendIntermediateSigmas = unsupported_class(__name__, 'ExtendIntermediateSigmas', None, _REASON)
Guider_DualCFG = unsupported_class(__name__, 'Guider_DualCFG', None, _REASON)
LaplaceScheduler = unsupported_class(__name__, 'LaplaceScheduler', None, _REASON)
PolyexponentialScheduler = unsupported_class(__name__, 'PolyexponentialScheduler', None, _REASON)
SDTurboScheduler = unsupported_class(__name__, 'SDTurboScheduler', None, _REASON)
SamplerDPMAdaptative = unsupported_class(__name__, 'SamplerDPMAdaptative', None, _REASON)
SamplerDPMPP_2M_SDE = unsupported_class(__name__, 'SamplerDPMPP_2M_SDE', None, _REASON)
SamplerDPMPP_2S_Ancestral = unsupported_class(__name__, 'SamplerDPMPP_2S_Ancestral', None, _REASON)
SamplerDPMPP_3M_SDE = unsupported_class(__name__, 'SamplerDPMPP_3M_SDE', None, _REASON)
SamplerDPMPP_SDE = unsupported_class(__name__, 'SamplerDPMPP_SDE', None, _REASON)
SamplerER_SDE = unsupported_class(__name__, 'SamplerER_SDE', None, _REASON)
SamplerEulerAncestral = unsupported_class(__name__, 'SamplerEulerAncestral', None, _REASON)
SamplerEulerAncestralCFGPP = unsupported_class(__name__, 'SamplerEulerAncestralCFGPP', None, _REASON)
SamplerLMS = unsupported_class(__name__, 'SamplerLMS', None, _REASON)
SamplerSASolver = unsupported_class(__name__, 'SamplerSASolver', None, _REASON)
SamplingPercentToSigma = unsupported_class(__name__, 'SamplingPercentToSigma', None, _REASON)
SetFirstSigma = unsupported_class(__name__, 'SetFirstSigma', None, _REASON)
VPScheduler = unsupported_class(__name__, 'VPScheduler', None, _REASON)
