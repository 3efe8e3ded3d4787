"""Small pieces every sampler shares: the ODE derivative, the ancestral split, noise samplers, log-SNR maps,
and the hook that lets CFG++ samplers see the unconditional prediction.

All samplers work in k-diffusion's variance-exploding space: `x = x0 + sigma * eps`, and `model(x, sigma)`
returns the denoised estimate x0.
"""

from __future__ import annotations

import warnings

import torch

from comfy.k_diffusion.utils import append_dims


def append_zero(x: torch.Tensor) -> torch.Tensor:
    """Append a final 0 to a 1-D sigma schedule."""
    return torch.cat([x, x.new_zeros([1])])


def to_d(x: torch.Tensor, sigma: torch.Tensor, denoised: torch.Tensor) -> torch.Tensor:
    """The probability-flow ODE derivative dx/dsigma = (x - D(x)) / sigma."""
    return (x - denoised) / append_dims(sigma, x.ndim)


def get_ancestral_step(sigma_from, sigma_to, eta: float = 1.0):
    """Split a step sigma_from → sigma_to into a deterministic step down to `sigma_down` plus fresh noise of
    std `sigma_up`, with sigma_down² + sigma_up² = sigma_to² (eta scales the noise; eta = 0 is deterministic)."""
    if not eta:
        return sigma_to, 0.0
    sigma_up = min(sigma_to, eta * (sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2) ** 0.5)
    sigma_down = (sigma_to**2 - sigma_up**2) ** 0.5
    return sigma_down, sigma_up


def default_noise_sampler(x: torch.Tensor, seed: int | None = None):
    """Standard-normal noise shaped like `x`, drawn from a generator on `x`'s device seeded with `seed`.

    Seeding with the same seed as the initial noise is ComfyUI's behaviour: on the CPU the first step's noise
    repeats the initial noise stream."""
    generator = None
    if seed is not None:
        generator = torch.Generator(device=x.device)
        generator.manual_seed(seed)

    def sample_noise(sigma, sigma_next):
        return torch.randn(x.size(), dtype=x.dtype, layout=x.layout, device=x.device, generator=generator)

    return sample_noise


class BatchedBrownianTree:
    """A torchsde Brownian tree shaped like `x` on [t0, t1], queried as W(tb) - W(ta) (either order)."""

    def __init__(self, x: torch.Tensor, t0, t1, seed: int | None = None, cpu: bool = True):
        self.cpu_tree = cpu
        t0, t1, self.sign = self._sort(torch.as_tensor(t0), torch.as_tensor(t1))
        w0 = torch.zeros_like(x)
        if seed is None:
            seed = torch.randint(0, 2**63 - 1, ()).item()
        if cpu:
            t0, w0, t1 = t0.detach().cpu(), w0.detach().cpu(), t1.detach().cpu()
        import torchsde  # pulls in scipy: imported when an SDE sampler first runs

        self.tree = torchsde.BrownianTree(t0, w0, t1, entropy=seed)

    @staticmethod
    def _sort(a, b):
        return (a, b, 1) if a < b else (b, a, -1)

    def __call__(self, t0, t1) -> torch.Tensor:
        t0, t1, sign = self._sort(torch.as_tensor(t0), torch.as_tensor(t1))
        device, dtype = t0.device, t0.dtype
        if self.cpu_tree:
            t0, t1 = t0.detach().cpu().float(), t1.detach().cpu().float()
        with warnings.catch_warnings():
            # sigma_max itself, passed back as a float32 tensor, can sit a rounding error above the tree's end
            warnings.filterwarnings("ignore", message="Should have t[ab]<=t1")
            w = self.tree(t0, t1)
        return w.to(device=device, dtype=dtype) * (self.sign * sign)


class BrownianTreeNoiseSampler:
    """Noise for SDE solvers from one Brownian path over [sigma_min, sigma_max]: the increment between two sigmas,
    normalised to unit variance, so that steps of any size see consistent noise (`transform` maps sigma to
    the tree's time; `cpu=True` keeps the tree on the CPU, which makes results device-independent)."""

    def __init__(self, x: torch.Tensor, sigma_min, sigma_max, seed: int | None = None, transform=lambda s: s,
                 cpu: bool = False):
        self.transform = transform
        t0 = self.transform(torch.as_tensor(sigma_min))
        t1 = self.transform(torch.as_tensor(sigma_max))
        self.tree = BatchedBrownianTree(x, t0, t1, seed, cpu=cpu)

    def __call__(self, sigma, sigma_next) -> torch.Tensor:
        t0 = self.transform(torch.as_tensor(sigma))
        t1 = self.transform(torch.as_tensor(sigma_next))
        return self.tree(t0, t1) / (t1 - t0).abs().sqrt()


def brownian_noise_sampler(x: torch.Tensor, sigmas: torch.Tensor, seed: int | None, cpu: bool = True):
    """A BrownianTreeNoiseSampler spanning the positive part of `sigmas` (what the SDE samplers default to)."""
    sigma_min, sigma_max = sigmas[sigmas > 0].min(), sigmas.max()
    return BrownianTreeNoiseSampler(x, sigma_min, sigma_max, seed=seed, cpu=cpu)


def get_model_sampling(model):
    """The model-sampling object behind a sampler's model wrapper (None for a bare callable)."""
    guider = getattr(model, "inner_model", None)
    diffusion_model = getattr(guider, "inner_model", None)
    return getattr(diffusion_model, "model_sampling", None)


def is_flow(model_sampling) -> bool:
    """Whether the model is a rectified-flow (CONST) model, for the samplers that treat those differently."""
    from comfy.model_sampling import CONST

    return isinstance(model_sampling, CONST)


def sigma_to_half_log_snr(sigma: torch.Tensor, model_sampling=None) -> torch.Tensor:
    """lambda = log(alpha / sigma_vp): -log(sigma) in VE space, logit⁻ for rectified flow."""
    if is_flow(model_sampling):
        return sigma.logit().neg()
    return sigma.log().neg()


def half_log_snr_to_sigma(half_log_snr: torch.Tensor, model_sampling=None) -> torch.Tensor:
    """Inverse of `sigma_to_half_log_snr`."""
    if is_flow(model_sampling):
        return half_log_snr.neg().sigmoid()
    return half_log_snr.neg().exp()


def offset_first_sigma_for_snr(sigmas: torch.Tensor, model_sampling=None, percent_offset: float = 1e-4) -> torch.Tensor:
    """For rectified flow, move a first sigma of 1 (infinite noise, undefined log-SNR) just below 1."""
    if len(sigmas) > 1 and is_flow(model_sampling) and sigmas[0] >= 1:
        sigmas = sigmas.clone()
        sigmas[0] = model_sampling.percent_to_sigma(percent_offset)
    return sigmas


def capture_uncond_denoised(extra_args: dict) -> list:
    """Install a post-CFG hook that records the unconditional prediction (for CFG++ samplers) and force the
    unconditional pass even at cfg 1. Returns a one-element list whose item is updated on every model call."""
    captured = [None]

    def post_cfg_function(args):
        captured[0] = args["uncond_denoised"]
        return args["denoised"]

    model_options = dict(extra_args.get("model_options", {}))
    model_options["sampler_post_cfg_function"] = list(model_options.get("sampler_post_cfg_function", [])) + [
        post_cfg_function]
    model_options["disable_cfg1_optimization"] = True
    extra_args["model_options"] = model_options
    return captured
