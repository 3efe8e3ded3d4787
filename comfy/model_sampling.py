"""Model sampling: the noise schedule of a discrete-time diffusion model and its parameterisation.

`ModelSamplingDiscrete` holds the 1000-entry sigma table (k-diffusion's "sigma" = sqrt((1 - ᾱ) / ᾱ)) and maps
between sigmas and timesteps. The parameterisation mixins (`EPS`, `V_PREDICTION`, ...) say how the network's raw
output becomes a denoised estimate and how noise is added to a latent. A model's sampling object is a class
combining both, built by `model_sampling(model_type)`.
"""

from __future__ import annotations

import math

import torch


class EPS:
    """ε-prediction (DDPM): the network predicts the added noise; `x` is in k-diffusion (variance-exploding) space."""

    sigma_data = 1.0

    def calculate_input(self, sigma: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Scale a noisy latent `[B, C, ...]` at `sigma` `[B]` to unit variance for the network."""
        sigma = _expand_to(sigma, noise)
        return noise / (sigma**2 + self.sigma_data**2) ** 0.5

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        """x0 estimate from the predicted noise: `x - sigma * eps`."""
        sigma = _expand_to(sigma, model_output)
        return model_input - model_output * sigma

    def noise_scaling(self, sigma: torch.Tensor, noise: torch.Tensor, latent_image: torch.Tensor,
                      max_denoise: bool = False) -> torch.Tensor:
        """The sampler's starting point: `latent + noise * sigma`, or `noise * sqrt(1 + sigma²)` at full denoise."""
        if max_denoise:
            noise = noise * torch.sqrt(1.0 + sigma**2.0)
        else:
            noise = noise * sigma
        noise += latent_image
        return noise

    def inverse_noise_scaling(self, sigma: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """Undo `noise_scaling` on the sampler's result (identity for ε-prediction)."""
        return latent


class V_PREDICTION(EPS):
    """v-prediction (Salimans & Ho 2022): the network predicts `v = alpha * eps - sigma * x0`."""

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        sigma = _expand_to(sigma, model_output)
        variance = sigma**2 + self.sigma_data**2
        return model_input * self.sigma_data**2 / variance - model_output * sigma * self.sigma_data / variance**0.5


class EDM(V_PREDICTION):
    """EDM preconditioning (Karras et al. 2022): the network output is mixed with the input by c_skip / c_out."""

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        sigma = _expand_to(sigma, model_output)
        variance = sigma**2 + self.sigma_data**2
        return model_input * self.sigma_data**2 / variance + model_output * sigma * self.sigma_data / variance**0.5


class X0(EPS):
    """The network predicts x0 directly."""

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        return model_output


class LCM(EPS):
    """Latent consistency models (Luo et al. 2023): an ε-prediction network whose x0 estimate is mixed with the
    input by the consistency boundary conditions c_skip / c_out of the (distilled) timestep, scaled by 10 and
    with sigma_data 0.5, so that the estimate equals the input at timestep 0."""

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        timestep = _expand_to(self.timestep(sigma), model_output)
        x0 = model_input - model_output * _expand_to(sigma, model_output)
        sigma_data = 0.5
        scaled_timestep = timestep * 10.0
        c_skip = sigma_data**2 / (scaled_timestep**2 + sigma_data**2)
        c_out = scaled_timestep / (scaled_timestep**2 + sigma_data**2) ** 0.5
        return c_out * x0 + c_skip * model_input


class CONST:
    """Rectified flow (x_t = (1 - t) x0 + t ε, sigma = t, the schedules of SD3 and Flux): the network predicts the
    velocity `ε - x0`. Sigmas run from 1 (pure noise) to 0; `x` is never rescaled for the network."""

    def calculate_input(self, sigma: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The network sees the noisy latent as it is."""
        return noise

    def calculate_denoised(self, sigma: torch.Tensor, model_output: torch.Tensor, model_input: torch.Tensor) -> torch.Tensor:
        """x0 estimate from the predicted velocity `v = ε - x0`: `x - sigma * v`."""
        sigma = _expand_to(sigma, model_output)
        return model_input - model_output * sigma

    def noise_scaling(self, sigma: torch.Tensor, noise: torch.Tensor, latent_image: torch.Tensor,
                      max_denoise: bool = False) -> torch.Tensor:
        """The sampler's starting point, the flow interpolation `sigma * noise + (1 - sigma) * latent`
        (`max_denoise` changes nothing: at sigma 1 this is pure noise)."""
        sigma = _expand_to(sigma, noise)
        return sigma * noise + (1.0 - sigma) * latent_image

    def inverse_noise_scaling(self, sigma: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """Undo the `(1 - sigma)` factor on the sampler's result: `latent / (1 - sigma)` (identity at sigma 0)."""
        sigma = _expand_to(sigma, latent)
        return latent / (1.0 - sigma)


def _expand_to(sigma: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reshape a per-sample sigma `[B]` to broadcast against `x` `[B, C, ...]`."""
    return sigma.view(sigma.shape[:1] + (1,) * (x.ndim - 1))


def make_beta_schedule(schedule: str, n_timestep: int, linear_start: float = 1e-4, linear_end: float = 2e-2,
                       cosine_s: float = 8e-3) -> torch.Tensor:
    """The DDPM betas, float64 `[n_timestep]`. "linear" is Stable Diffusion's: linear in sqrt(beta)."""
    if schedule == "linear":
        return torch.linspace(linear_start**0.5, linear_end**0.5, n_timestep, dtype=torch.float64) ** 2
    if schedule == "cosine":
        steps = torch.arange(n_timestep + 1, dtype=torch.float64) / n_timestep + cosine_s
        alphas = torch.cos(steps / (1 + cosine_s) * math.pi / 2).pow(2)
        alphas = alphas / alphas[0]
        return (1 - alphas[1:] / alphas[:-1]).clamp(min=0, max=0.999)
    if schedule == "sqrt_linear":
        return torch.linspace(linear_start, linear_end, n_timestep, dtype=torch.float64)
    if schedule == "sqrt":
        return torch.linspace(linear_start, linear_end, n_timestep, dtype=torch.float64) ** 0.5
    raise ValueError(f"unknown beta schedule {schedule!r}; expected linear, cosine, sqrt_linear or sqrt")


def rescale_zero_terminal_snr_sigmas(sigmas: torch.Tensor) -> torch.Tensor:
    """Rescale a sigma table so the last timestep has (almost) zero SNR (Lin et al. 2023, "Common Diffusion Noise
    Schedules and Sample Steps are Flawed", Algorithm 1); the final alpha_bar is pinned to a tiny positive value."""
    alphas_bar_sqrt = (1.0 / (sigmas * sigmas + 1.0)).sqrt()
    first, last = alphas_bar_sqrt[0].clone(), alphas_bar_sqrt[-1].clone()
    alphas_bar_sqrt = (alphas_bar_sqrt - last) * first / (first - last)
    alphas_bar = alphas_bar_sqrt**2
    alphas_bar[-1] = 4.8973451890853435e-08
    return ((1 - alphas_bar) / alphas_bar) ** 0.5


class SigmaTable(torch.nn.Module):
    """A model-sampling object whose schedule is an ascending `sigmas` buffer (`sigmas[0]` = sigma_min,
    `sigmas[-1]` = sigma_max)."""

    def set_sigmas(self, sigmas: torch.Tensor) -> None:
        """Store the table as float32 `sigmas` and `log_sigmas` buffers."""
        self.register_buffer("sigmas", sigmas.float())
        self.register_buffer("log_sigmas", sigmas.log().float())

    @property
    def sigma_min(self) -> torch.Tensor:
        return self.sigmas[0]

    @property
    def sigma_max(self) -> torch.Tensor:
        return self.sigmas[-1]


class ModelSamplingDiscrete(SigmaTable):
    """A discrete-time schedule of `timesteps` sigmas, ascending (`sigmas[0]` = sigma_min, `sigmas[-1]` = sigma_max).

    `model_config.sampling_settings` may set beta_schedule, linear_start, linear_end, timesteps and zsnr
    (defaults: SD1's linear betas 0.00085..0.012 over 1000 steps).
    """

    def __init__(self, model_config=None, zsnr: bool | None = None):
        super().__init__()
        settings = getattr(model_config, "sampling_settings", None) or {}
        if zsnr is None:
            zsnr = settings.get("zsnr", False)
        self._register_schedule(beta_schedule=settings.get("beta_schedule", "linear"),
                                timesteps=settings.get("timesteps", 1000),
                                linear_start=settings.get("linear_start", 0.00085),
                                linear_end=settings.get("linear_end", 0.012), zsnr=zsnr)
        self.sigma_data = 1.0

    def _register_schedule(self, given_betas: torch.Tensor | None = None, beta_schedule: str = "linear",
                           timesteps: int = 1000, linear_start: float = 1e-4, linear_end: float = 2e-2,
                           cosine_s: float = 8e-3, zsnr: bool = False) -> None:
        if given_betas is not None:
            betas = torch.as_tensor(given_betas, dtype=torch.float64)
        else:
            betas = make_beta_schedule(beta_schedule, timesteps, linear_start, linear_end, cosine_s)
        self.num_timesteps = int(betas.shape[0])
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
        if zsnr:
            sigmas = rescale_zero_terminal_snr_sigmas(sigmas)
        self.set_sigmas(sigmas)

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """The index of the table entry nearest to each sigma in log space (same shape as `sigma`, int64)."""
        log_sigma = sigma.log()
        dists = log_sigma.to(self.log_sigmas.device) - self.log_sigmas[:, None]
        return dists.abs().argmin(dim=0).view(sigma.shape).to(sigma.device)

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        """Sigma at a (fractional) timestep, interpolating log-sigma between the neighbouring table entries."""
        t = torch.clamp(timestep.float().to(self.log_sigmas.device), min=0, max=len(self.sigmas) - 1)
        low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac()
        log_sigma = (1 - w) * self.log_sigmas[low_idx] + w * self.log_sigmas[high_idx]
        return log_sigma.exp().to(timestep.device)

    def percent_to_sigma(self, percent: float) -> float:
        """Sigma at a fraction of the sampling process (0 = start, pure noise; 1 = end, clean)."""
        if percent <= 0.0:
            return 999999999.9
        if percent >= 1.0:
            return 0.0
        percent = 1.0 - percent
        return self.sigma(torch.tensor(percent * 999.0)).item()


class ModelSamplingDiscreteDistilled(ModelSamplingDiscrete):
    """The schedule an LCM was distilled on: 50 of the 1000 timesteps, every 20th counted down from the last
    (999, 979, ..., 19). Timesteps map to those entries and back, so samplers only ever see the distilled sigmas.
    """

    original_timesteps = 50

    def __init__(self, model_config=None, zsnr: bool | None = None):
        super().__init__(model_config, zsnr=zsnr)
        self.skip_steps = self.num_timesteps // self.original_timesteps
        kept = torch.arange(self.num_timesteps - 1, -1, -self.skip_steps)[:self.original_timesteps].flip(0)
        self.set_sigmas(self.sigmas[kept])

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """The original timestep of the distilled entry nearest to each sigma (log space)."""
        index = super().timestep(sigma)
        return index * self.skip_steps + (self.skip_steps - 1)

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        """Sigma at an original (fractional) timestep, interpolated between the distilled entries."""
        distilled = (timestep.float() - (self.skip_steps - 1)) / self.skip_steps
        return super().sigma(distilled)


def time_snr_shift(alpha: float, t):
    """SD3's timestep shift: t' = alpha·t / (1 + (alpha - 1)·t) (alpha > 1 spends more steps at high noise)."""
    if alpha == 1.0:
        return t
    return alpha * t / (1 + (alpha - 1) * t)


def flux_time_shift(mu: float, sigma: float, t):
    """Flux's timestep shift: e^mu / (e^mu + (1/t - 1)^sigma)."""
    return math.exp(mu) / (math.exp(mu) + (1 / t - 1) ** sigma)


class ModelSamplingDiscreteFlow(SigmaTable):
    """Rectified-flow schedule (SD3, Flux schnell): sigma = shifted t on a `timesteps`-entry grid of (0, 1];
    the network's timestep is sigma · multiplier. `model_config.sampling_settings` may set shift, multiplier."""

    def __init__(self, model_config=None):
        super().__init__()
        settings = getattr(model_config, "sampling_settings", None) or {}
        self.set_parameters(shift=settings.get("shift", 1.0), multiplier=settings.get("multiplier", 1000))

    def set_parameters(self, shift: float = 1.0, timesteps: int = 1000, multiplier: float = 1000) -> None:
        self.shift = shift
        self.multiplier = multiplier
        self.register_buffer("sigmas", self.sigma((torch.arange(1, timesteps + 1, 1) / timesteps) * multiplier))

    def timestep(self, sigma):
        return sigma * self.multiplier

    def sigma(self, timestep):
        return time_snr_shift(self.shift, timestep / self.multiplier)

    def percent_to_sigma(self, percent: float) -> float:
        if percent <= 0.0:
            return 1.0
        if percent >= 1.0:
            return 0.0
        return time_snr_shift(self.shift, 1.0 - percent)


class ModelSamplingFlux(SigmaTable):
    """Flux dev's schedule: sigma = flux_time_shift(shift, 1, t) on a 10000-entry grid; timestep = sigma."""

    def __init__(self, model_config=None):
        super().__init__()
        settings = getattr(model_config, "sampling_settings", None) or {}
        self.set_parameters(shift=settings.get("shift", 1.15))

    def set_parameters(self, shift: float = 1.15, timesteps: int = 10000) -> None:
        self.shift = shift
        self.register_buffer("sigmas", self.sigma(torch.arange(1, timesteps + 1, 1) / timesteps))

    def timestep(self, sigma):
        return sigma

    def sigma(self, timestep):
        return flux_time_shift(self.shift, 1.0, timestep)

    def percent_to_sigma(self, percent: float) -> float:
        if percent <= 0.0:
            return 1.0
        if percent >= 1.0:
            return 0.0
        return flux_time_shift(self.shift, 1.0, 1.0 - percent)


class ModelSamplingContinuousEDM(SigmaTable):
    """A continuous log-uniform schedule between sigma_min and sigma_max (EDM, Karras et al. 2022): the network's
    timestep is EDM's c_noise = ln(sigma) / 4. `sigmas` holds 1000 log-spaced values, ascending, for the schedulers.
    `model_config.sampling_settings` may set sigma_min (0.002), sigma_max (120) and sigma_data (1)."""

    def __init__(self, model_config=None):
        super().__init__()
        settings = getattr(model_config, "sampling_settings", None) or {}
        self.set_parameters(settings.get("sigma_min", 0.002), settings.get("sigma_max", 120.0),
                            settings.get("sigma_data", 1.0))

    def set_parameters(self, sigma_min: float, sigma_max: float, sigma_data: float) -> None:
        self.sigma_data = sigma_data
        self.set_sigmas(torch.linspace(math.log(sigma_min), math.log(sigma_max), 1000).exp())

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        return 0.25 * sigma.log()

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        return (timestep / 0.25).exp()

    def percent_to_sigma(self, percent: float) -> float:
        """Sigma at a fraction of sampling, log-linear from sigma_max (0) to sigma_min (just before 1)."""
        if percent <= 0.0:
            return 999999999.9
        if percent >= 1.0:
            return 0.0
        log_sigma_min = math.log(self.sigma_min)
        return math.exp((math.log(self.sigma_max) - log_sigma_min) * (1.0 - percent) + log_sigma_min)


class ModelSamplingContinuousV(ModelSamplingContinuousEDM):
    """The same log-spaced sigmas, with the timestep of continuous-time v-models: t = atan(sigma) · 2 / pi."""

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        return sigma.atan() / math.pi * 2

    def sigma(self, timestep: torch.Tensor) -> torch.Tensor:
        return (timestep * math.pi / 2).tan()


_PARAMETERISATIONS = {"eps": EPS, "v_prediction": V_PREDICTION, "edm": EDM, "x0": X0}
_COMBINED_CLASSES: dict[tuple[type, type], type] = {}


def model_sampling_class(parameterisation: type, schedule: type | None = None) -> type:
    """The class mixing `parameterisation` (EPS, V_PREDICTION, CONST, ...) into a schedule class
    (ModelSamplingDiscrete by default; ModelSamplingDiscreteFlow / ModelSamplingFlux for flow models), cached."""
    schedule = schedule or ModelSamplingDiscrete
    key = (schedule, parameterisation)
    if key not in _COMBINED_CLASSES:
        _COMBINED_CLASSES[key] = type("ModelSampling", (schedule, parameterisation), {})
    return _COMBINED_CLASSES[key]


def model_sampling(model_type="eps", model_config=None, zsnr: bool | None = None) -> ModelSamplingDiscrete:
    """Build the sampling object of a discrete-time model (ModelSamplingDiscrete + the parameterisation).

    `model_type`: "eps" / "v_prediction" / "edm" / "x0" (case-insensitive), an enum member with that `.name`
    (ComfyUI's `ModelType.EPS`), or one of the parameterisation classes themselves. Flow models combine CONST
    with their own schedule: `model_sampling_class(CONST, ModelSamplingFlux)(model_config)`.
    """
    if isinstance(model_type, type):
        parameterisation = model_type
    else:
        key = getattr(model_type, "name", model_type)
        parameterisation = _PARAMETERISATIONS.get(str(key).lower())
        if parameterisation is None:
            raise ValueError(f"unknown model type {model_type!r}; expected one of {sorted(_PARAMETERISATIONS)}")
    return model_sampling_class(parameterisation)(model_config, zsnr=zsnr)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = 'Kiln does not support this model family'

COSMOS_RFLOW = unsupported_class(__name__, 'COSMOS_RFLOW', None, _REASON)
IMG_TO_IMG = unsupported_class(__name__, 'IMG_TO_IMG', None, _REASON)
ModelSamplingCosmosRFlow = unsupported_class(__name__, 'ModelSamplingCosmosRFlow', None, _REASON)
ModelSamplingDiscreteEDM = unsupported_class(__name__, 'ModelSamplingDiscreteEDM', None, _REASON)
StableCascadeSampling = unsupported_class(__name__, 'StableCascadeSampling', 'model_config=', _REASON)
reshape_sigma = unsupported_function(__name__, 'reshape_sigma', 'sigma, noise_dim', _REASON)
