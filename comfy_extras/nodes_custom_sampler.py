"""Custom sampling nodes: build a sampling run from parts (noise, guider, sampler, sigma schedule) instead of
KSampler's fixed recipe.

Types that flow between these nodes:
- SAMPLER: a `comfy.samplers.KSAMPLER` (from `comfy.samplers.sampler_object`).
- SIGMAS: a 1-D float32 tensor of noise levels, descending, usually ending in 0 (steps + 1 values).
- NOISE: an object with `.seed` and `generate_noise(latent_dict)` → unit noise shaped like `latent["samples"]`.
- GUIDER: a `comfy.samplers.CFGGuider` (or subclass) holding the model patcher and its conditioning.
"""

from __future__ import annotations

import math
from typing import Any

import torch

import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.utils
import latent_preview
from comfy.k_diffusion import sa_solver
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


class Guider_DualCFG(comfy.samplers.CFGGuider):  # noqa: N801 - ComfyUI's name
    """Guidance by two conditionings against a negative: `set_conds(positive, middle, negative)`,
    `set_cfg(cfg1, cfg2, nested)`.

    Regular: CFG of `middle` against `negative` at cfg2, plus (positive - middle) · cfg1.
    Nested: CFG of `positive` against `middle` at cfg1 (with the model's CFG hooks), then of that against
    `negative` at cfg2."""

    def set_conds(self, positive, middle, negative) -> None:  # type: ignore[override]
        self.inner_set_conds({"positive": positive, "middle": middle, "negative": negative})

    def set_cfg(self, cfg1: float, cfg2: float, nested: bool = False) -> None:  # type: ignore[override]
        self.cfg1 = cfg1
        self.cfg2 = cfg2
        self.nested = nested

    def predict_noise(self, x, timestep, model_options=None, seed=None):
        model_options = model_options or {}
        negative = self.conds.get("negative")
        middle = self.conds.get("middle")
        positive = self.conds.get("positive")
        if self.nested:
            out = comfy.samplers.calc_cond_batch(self.inner_model, [negative, middle, positive], x, timestep,
                                                 model_options)
            guided = comfy.samplers.cfg_function(self.inner_model, out[2], out[1], self.cfg1, x, timestep,
                                                 model_options=model_options, cond=positive, uncond=middle)
            return out[0] + self.cfg2 * (guided - out[0])
        if not model_options.get("disable_cfg1_optimization", False) and math.isclose(self.cfg2, 1.0):
            negative = None  # a cfg of 1 needs no negative pass
            if math.isclose(self.cfg1, 1.0):
                middle = None
        out = comfy.samplers.calc_cond_batch(self.inner_model, [negative, middle, positive], x, timestep,
                                             model_options)
        guided = comfy.samplers.cfg_function(self.inner_model, out[1], out[0], self.cfg2, x, timestep,
                                             model_options=model_options, cond=middle, uncond=negative)
        return guided + (out[2] - out[1]) * self.cfg1


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


# Sampler nodes: one k-diffusion sampler each, with its options as inputs.
_FACTOR = {"min": 0.0, "max": 100.0, "step": 0.01, "round": False}


def _sampler_node(node_name: str, function_name: str, inputs: dict, make_options, docstring: str) -> type:
    """A node class whose SAMPLER runs `function_name` with `make_options(**inputs)`; `make_options` may also
    return (sampler name, options) to pick the sampler from the inputs. `get_sampler` takes the inputs by name
    or in their order, as ComfyUI's classes do."""
    names = list(inputs)

    def get_sampler(self, *positional, **values):
        values.update(zip(names, positional, strict=False))
        chosen = make_options(**values)
        name, options = chosen if isinstance(chosen, tuple) else (function_name, chosen)
        return (comfy.samplers.ksampler(name, options),)

    return type(node_name, (), {
        "__doc__": docstring, "__module__": __name__, "__qualname__": node_name,
        "INPUT_TYPES": classmethod(lambda cls: {"required": dict(inputs)}),
        "RETURN_TYPES": ("SAMPLER",), "FUNCTION": "get_sampler",
        "CATEGORY": "sampling/custom_sampling/samplers", "get_sampler": get_sampler,
    })


def _on_device(name: str, noise_device: str) -> str:
    """The sampler variant whose noise comes from the GPU's generator ("gpu") or the CPU's."""
    return name if noise_device == "cpu" else f"{name}_gpu"


SamplerEulerAncestral = _sampler_node(
    "SamplerEulerAncestral", "euler_ancestral",
    {"eta": ("FLOAT", {"default": 1.0, **_FACTOR}), "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR})},
    lambda eta, s_noise: {"eta": eta, "s_noise": s_noise}, "Euler ancestral with its noise amount and scale.")
SamplerEulerAncestralCFGPP = _sampler_node(
    "SamplerEulerAncestralCFGPP", "euler_ancestral_cfg_pp",
    {"eta": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01, "round": False}),
     "s_noise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01, "round": False})},
    lambda eta, s_noise: {"eta": eta, "s_noise": s_noise}, "Euler ancestral with CFG++.")
SamplerLMS = _sampler_node("SamplerLMS", "lms", {"order": ("INT", {"default": 4, "min": 1, "max": 100})},
                           lambda order: {"order": order}, "Linear multistep of the given order.")
SamplerDPMPP_3M_SDE = _sampler_node(
    "SamplerDPMPP_3M_SDE", "dpmpp_3m_sde", {"eta": ("FLOAT", {"default": 1.0, **_FACTOR}), "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR}),
                     "noise_device": (["gpu", "cpu"],)},
    lambda eta, s_noise, noise_device: (_on_device("dpmpp_3m_sde", noise_device), {"eta": eta, "s_noise": s_noise}),
    "DPM++ 3M SDE.")
SamplerDPMPP_2M_SDE = _sampler_node(
    "SamplerDPMPP_2M_SDE", "dpmpp_2m_sde", {"solver_type": (["midpoint", "heun"],), "eta": ("FLOAT", {"default": 1.0, **_FACTOR}),
                     "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR}), "noise_device": (["gpu", "cpu"],)},
    lambda solver_type, eta, s_noise, noise_device: (
        _on_device("dpmpp_2m_sde", noise_device), {"eta": eta, "s_noise": s_noise, "solver_type": solver_type}),
    "DPM++ 2M SDE with the midpoint or Heun correction.")
SamplerDPMPP_SDE = _sampler_node(
    "SamplerDPMPP_SDE", "dpmpp_sde", {"eta": ("FLOAT", {"default": 1.0, **_FACTOR}), "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR}),
                  "r": ("FLOAT", {"default": 0.5, **_FACTOR}), "noise_device": (["gpu", "cpu"],)},
    lambda eta, s_noise, r, noise_device: (_on_device("dpmpp_sde", noise_device),
                                           {"eta": eta, "s_noise": s_noise, "r": r}),
    "DPM++ SDE.")
SamplerDPMPP_2S_Ancestral = _sampler_node(
    "SamplerDPMPP_2S_Ancestral", "dpmpp_2s_ancestral",
    {"eta": ("FLOAT", {"default": 1.0, **_FACTOR}), "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR})},
    lambda eta, s_noise: {"eta": eta, "s_noise": s_noise}, "DPM++ 2S ancestral.")
SamplerDPMAdaptative = _sampler_node(
    "SamplerDPMAdaptative", "dpm_adaptive",
    {"order": ("INT", {"default": 3, "min": 2, "max": 3}), "rtol": ("FLOAT", {"default": 0.05, **_FACTOR}),
     "atol": ("FLOAT", {"default": 0.0078, **_FACTOR}), "h_init": ("FLOAT", {"default": 0.05, **_FACTOR}),
     "pcoeff": ("FLOAT", {"default": 0.0, **_FACTOR}), "icoeff": ("FLOAT", {"default": 1.0, **_FACTOR}),
     "dcoeff": ("FLOAT", {"default": 0.0, **_FACTOR}), "accept_safety": ("FLOAT", {"default": 0.81, **_FACTOR}),
     "eta": ("FLOAT", {"default": 0.0, **_FACTOR}), "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR})},
    lambda **options: options, "DPM-Solver with adaptive step size and its controller's settings.")


def _er_sde_options(solver_type: str, max_stage: int, eta: float, s_noise: float) -> dict:
    """ER-SDE's own noise scaling; the reverse-time SDE's (lambda ** (eta + 1)); or no noise at all (ODE)."""
    if solver_type == "ODE" or (solver_type == "Reverse-time SDE" and eta == 0):
        eta, s_noise = 0, 0
    scaler = None if solver_type == "ER-SDE" else (lambda value: value ** (eta + 1))
    return {"s_noise": s_noise, "noise_scaler": scaler, "max_stage": max_stage}


SamplerER_SDE = _sampler_node(
    "SamplerER_SDE", "er_sde",
    {"solver_type": ("COMBO", {"options": ["ER-SDE", "Reverse-time SDE", "ODE"]}),
     "max_stage": ("INT", {"default": 3, "min": 1, "max": 3}),
     "eta": ("FLOAT", {"default": 1.0, **_FACTOR,
                       "tooltip": "Stochastic strength of reverse-time SDE.\nWhen eta=0, it reduces to deterministic "
                                  "ODE. This setting doesn't apply to ER-SDE solver type."}),
     "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR})},
    _er_sde_options, "ER-SDE, the reverse-time SDE or the ODE, with up to three stages.")


class SamplerSASolver:
    """SA-Solver: stochastic between the two sampling percents, with its predictor and corrector orders."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL", {}),
            "eta": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01, "round": False}),
            "sde_start_percent": ("FLOAT", {"default": 0.2, "min": 0.0, "max": 1.0, "step": 0.001}),
            "sde_end_percent": ("FLOAT", {"default": 0.8, "min": 0.0, "max": 1.0, "step": 0.001}),
            "s_noise": ("FLOAT", {"default": 1.0, **_FACTOR}),
            "predictor_order": ("INT", {"default": 3, "min": 1, "max": 6}),
            "corrector_order": ("INT", {"default": 4, "min": 0, "max": 6}),
            "use_pece": ("BOOLEAN", {}),
            "simple_order_2": ("BOOLEAN", {}),
        }}

    RETURN_TYPES = ("SAMPLER",)
    FUNCTION = "get_sampler"
    CATEGORY = "sampling/custom_sampling/samplers"

    def get_sampler(self, model, eta, sde_start_percent, sde_end_percent, s_noise, predictor_order, corrector_order,
                    use_pece, simple_order_2):
        model_sampling = model.get_model_object("model_sampling")
        tau = sa_solver.get_tau_interval_func(model_sampling.percent_to_sigma(sde_start_percent),
                                              model_sampling.percent_to_sigma(sde_end_percent), eta=eta)
        return (comfy.samplers.ksampler("sa_solver", {
            "tau_func": tau, "s_noise": s_noise, "predictor_order": predictor_order,
            "corrector_order": corrector_order, "use_pece": use_pece, "simple_order_2": simple_order_2}),)


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


class PolyexponentialScheduler:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "sigma_max": ("FLOAT", {"default": 14.614642, **_SIGMA_OPTIONS}),
            "sigma_min": ("FLOAT", {"default": 0.0291675, **_SIGMA_OPTIONS}),
            "rho": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 100.0, "step": 0.01, "round": False}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, steps, sigma_max, sigma_min, rho):
        return (k_diffusion_sampling.get_sigmas_polyexponential(n=steps, sigma_min=sigma_min, sigma_max=sigma_max,
                                                                rho=rho),)


class LaplaceScheduler:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "sigma_max": ("FLOAT", {"default": 14.614642, **_SIGMA_OPTIONS}),
            "sigma_min": ("FLOAT", {"default": 0.0291675, **_SIGMA_OPTIONS}),
            "mu": ("FLOAT", {"default": 0.0, "min": -10.0, "max": 10.0, "step": 0.1, "round": False}),
            "beta": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 10.0, "step": 0.1, "round": False}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, steps, sigma_max, sigma_min, mu, beta):
        return (k_diffusion_sampling.get_sigmas_laplace(n=steps, sigma_min=sigma_min, sigma_max=sigma_max, mu=mu,
                                                        beta=beta),)


class SDTurboScheduler:
    """SD-Turbo's few-step schedule: the sigmas of timesteps 999, 899, ... 99, from where `denoise` starts."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "steps": ("INT", {"default": 1, "min": 1, "max": 10}),
            "denoise": ("FLOAT", {"default": 1.0, "min": 0, "max": 1.0, "step": 0.01}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, model, steps, denoise):
        skipped = 10 - int(10 * denoise)
        timesteps = torch.arange(999, -1, -100)[skipped:skipped + steps]
        sigmas = model.get_model_object("model_sampling").sigma(timesteps)
        return (torch.cat([sigmas, sigmas.new_zeros([1])]),)


class BetaSamplingScheduler:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "alpha": ("FLOAT", {"default": 0.6, "min": 0.0, "max": 50.0, "step": 0.01, "round": False}),
            "beta": ("FLOAT", {"default": 0.6, "min": 0.0, "max": 50.0, "step": 0.01, "round": False}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, model, steps, alpha, beta):
        return (comfy.samplers.beta_scheduler(model.get_model_object("model_sampling"), steps, alpha=alpha,
                                              beta=beta),)


class VPScheduler:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "beta_d": ("FLOAT", {"default": 19.9, "min": 0.0, "max": 5000.0, "step": 0.01, "round": False}),
            "beta_min": ("FLOAT", {"default": 0.1, "min": 0.0, "max": 5000.0, "step": 0.01, "round": False}),
            "eps_s": ("FLOAT", {"default": 0.001, "min": 0.0, "max": 1.0, "step": 0.0001, "round": False}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"

    def get_sigmas(self, steps, beta_d, beta_min, eps_s):
        return (k_diffusion_sampling.get_sigmas_vp(n=steps, beta_d=beta_d, beta_min=beta_min, eps_s=eps_s),)


# ---------------------------------------------------------------------------------------------- sigma tools


class SetFirstSigma:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "sigmas": ("SIGMAS",),
            "sigma": ("FLOAT", {"default": 136.0, "min": 0.0, "max": 20000.0, "step": 0.001, "round": False}),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "set_first_sigma"
    CATEGORY = "sampling/custom_sampling/sigmas"

    def set_first_sigma(self, sigmas, sigma):
        changed = sigmas.clone()
        changed[0] = sigma
        return (changed,)


# How ExtendIntermediateSigmas places the new sigmas between two: fractions of the way, eased or not.
_EASINGS = {
    "linear": lambda x: x,
    "cosine": lambda x: torch.sin(x * math.pi / 2),
    "sine": lambda x: 1 - torch.cos(x * math.pi / 2),
}


class ExtendIntermediateSigmas:
    """Put `steps - 1` extra sigmas between each pair whose first sigma lies in [end_at_sigma, start_at_sigma]."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "sigmas": ("SIGMAS",),
            "steps": ("INT", {"default": 2, "min": 1, "max": 100}),
            "start_at_sigma": ("FLOAT", {"default": -1.0, "min": -1.0, "max": 20000.0, "step": 0.01, "round": False}),
            "end_at_sigma": ("FLOAT", {"default": 12.0, "min": 0.0, "max": 20000.0, "step": 0.01, "round": False}),
            "spacing": (["linear", "cosine", "sine"],),
        }}

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "extend"
    CATEGORY = "sampling/custom_sampling/sigmas"

    def extend(self, sigmas: torch.Tensor, steps: int, start_at_sigma: float, end_at_sigma: float, spacing: str):
        upper = float("inf") if start_at_sigma < 0 else start_at_sigma
        fractions = _EASINGS[spacing](torch.linspace(0, 1, steps + 1, device=sigmas.device)[1:-1])
        values: list[float] = []
        for current, following in zip(sigmas[:-1], sigmas[1:], strict=True):
            values.append(float(current))
            if end_at_sigma <= current <= upper:
                values.extend((current + fractions * (following - current)).tolist())
        if len(sigmas) > 0:
            values.append(float(sigmas[-1]))
        return (torch.FloatTensor(values),)


class SamplingPercentToSigma:
    """The sigma at a fraction of the model's sampling (0 = start); at exactly 0 or 1 the interval checks use
    values just outside the schedule unless `return_actual_sigma`."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL", {}),
            "sampling_percent": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.0001}),
            "return_actual_sigma": ("BOOLEAN", {
                "default": False,
                "tooltip": "Return the actual sigma value instead of the value used for interval checks.\n"
                           "This only affects results at 0.0 and 1.0."}),
        }}

    RETURN_TYPES = ("FLOAT",)
    RETURN_NAMES = ("sigma_value",)
    FUNCTION = "get_sigma"
    CATEGORY = "sampling/custom_sampling/sigmas"

    def get_sigma(self, model, sampling_percent, return_actual_sigma):
        model_sampling = model.get_model_object("model_sampling")
        if return_actual_sigma and sampling_percent in (0.0, 1.0):
            bound = model_sampling.sigma_max if sampling_percent == 0.0 else model_sampling.sigma_min
            return (bound.item(),)
        return (model_sampling.percent_to_sigma(sampling_percent),)




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


class DualCFGGuider:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "cond1": ("CONDITIONING",),
            "cond2": ("CONDITIONING",),
            "negative": ("CONDITIONING",),
            "cfg_conds": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}),
            "cfg_cond2_negative": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}),
            "style": (["regular", "nested"],),
        }}

    RETURN_TYPES = ("GUIDER",)
    FUNCTION = "get_guider"
    CATEGORY = "sampling/custom_sampling/guiders"

    def get_guider(self, model, cond1, cond2, negative, cfg_conds, cfg_cond2_negative, style):
        guider = Guider_DualCFG(model)
        guider.set_conds(cond1, cond2, negative)
        guider.set_cfg(cfg_conds, cfg_cond2_negative, nested=(style == "nested"))
        return (guider,)


class AddNoise:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "noise": ("NOISE",),
            "sigmas": ("SIGMAS",),
            "latent_image": ("LATENT",),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "add_noise"
    CATEGORY = "_for_testing/custom_sampling/noise"

    def add_noise(self, model, noise, sigmas, latent_image):
        """The latent noised to the span of `sigmas` (first minus last, or the only one), as the model's
        sampling adds noise; an all-zero latent is taken as empty and not shifted into model space."""
        if len(sigmas) == 0:
            return (latent_image,)
        samples = latent_image["samples"]
        unit_noise = noise.generate_noise(latent_image)
        model_sampling = model.get_model_object("model_sampling")
        process_latent_in = model.get_model_object("process_latent_in")
        process_latent_out = model.get_model_object("process_latent_out")
        scale = torch.abs(sigmas[0] - sigmas[-1]) if len(sigmas) > 1 else sigmas[0]
        if torch.count_nonzero(samples) > 0:
            samples = process_latent_in(samples)
        noisy = process_latent_out(model_sampling.noise_scaling(scale, unit_noise, samples))
        output = latent_image.copy()
        output["samples"] = torch.nan_to_num(noisy, nan=0.0, posinf=0.0, neginf=0.0)
        return (output,)


NODE_CLASS_MAPPINGS = {
    "SamplerCustom": SamplerCustom,
    "SamplerCustomAdvanced": SamplerCustomAdvanced,
    "KSamplerSelect": KSamplerSelect,
    "SamplerEulerAncestral": SamplerEulerAncestral,
    "SamplerEulerAncestralCFGPP": SamplerEulerAncestralCFGPP,
    "SamplerLMS": SamplerLMS,
    "SamplerDPMPP_3M_SDE": SamplerDPMPP_3M_SDE,
    "SamplerDPMPP_2M_SDE": SamplerDPMPP_2M_SDE,
    "SamplerDPMPP_SDE": SamplerDPMPP_SDE,
    "SamplerDPMPP_2S_Ancestral": SamplerDPMPP_2S_Ancestral,
    "SamplerDPMAdaptative": SamplerDPMAdaptative,
    "SamplerER_SDE": SamplerER_SDE,
    "SamplerSASolver": SamplerSASolver,
    "BasicScheduler": BasicScheduler,
    "KarrasScheduler": KarrasScheduler,
    "ExponentialScheduler": ExponentialScheduler,
    "PolyexponentialScheduler": PolyexponentialScheduler,
    "LaplaceScheduler": LaplaceScheduler,
    "SDTurboScheduler": SDTurboScheduler,
    "BetaSamplingScheduler": BetaSamplingScheduler,
    "VPScheduler": VPScheduler,
    "SetFirstSigma": SetFirstSigma,
    "ExtendIntermediateSigmas": ExtendIntermediateSigmas,
    "SamplingPercentToSigma": SamplingPercentToSigma,
    "SplitSigmas": SplitSigmas,
    "SplitSigmasDenoise": SplitSigmasDenoise,
    "FlipSigmas": FlipSigmas,
    "RandomNoise": RandomNoise,
    "DisableNoise": DisableNoise,
    "BasicGuider": BasicGuider,
    "CFGGuider": CFGGuider,
    "DualCFGGuider": DualCFGGuider,
    "AddNoise": AddNoise,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {"SamplerEulerAncestralCFGPP": "SamplerEulerAncestralCFG++"}

