"""Sigma schedules and the deterministic / ancestral / multistep samplers, one function per method.

Every `sample_<name>(model, x, sigmas, extra_args=None, callback=None, disable=None, ...)` starts from `x` at
`sigmas[0]` (variance-exploding space), calls `model(x, sigma * s_in, **extra_args)` for denoised estimates,
reports one callback dict per step (`x, i, sigma, sigma_hat, denoised`) and returns x at `sigmas[-1]`.
Stochastic samplers draw noise from a sampler seeded with `extra_args["seed"]`, never from the global RNG.
The SDE family and the DPM-Solver fast/adaptive samplers live in sibling modules and are re-exported here.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm.auto import trange

from comfy.k_diffusion import deis
from comfy.k_diffusion.common import (  # noqa: F401  (re-exported: ComfyUI's names)
    BatchedBrownianTree,
    BrownianTreeNoiseSampler,
    append_zero,
    capture_uncond_denoised,
    default_noise_sampler,
    get_ancestral_step,
    get_model_sampling,
    half_log_snr_to_sigma,
    is_flow,
    offset_first_sigma_for_snr,
    sigma_to_half_log_snr,
    to_d,
)

# ---------------------------------------------------------------------------------------------- schedules


def get_sigmas_karras(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0, device="cpu") -> torch.Tensor:
    """The schedule of Karras et al. (2022), eq. 5: sigmas evenly spaced in sigma^(1/rho); n values plus a 0."""
    ramp = torch.linspace(0, 1, n, device=device)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    return append_zero((max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho)


def get_sigmas_exponential(n: int, sigma_min: float, sigma_max: float, device="cpu") -> torch.Tensor:
    """Sigmas evenly spaced in log(sigma); n values plus a 0."""
    return append_zero(torch.linspace(math.log(sigma_max), math.log(sigma_min), n, device=device).exp())


def get_sigmas_polyexponential(n: int, sigma_min: float, sigma_max: float, rho: float = 1.0, device="cpu") -> torch.Tensor:
    """Sigmas spaced polynomially (power rho) in log(sigma); n values plus a 0."""
    ramp = torch.linspace(1, 0, n, device=device) ** rho
    return append_zero(torch.exp(ramp * (math.log(sigma_max) - math.log(sigma_min)) + math.log(sigma_min)))


def get_sigmas_vp(n: int, beta_d: float = 19.9, beta_min: float = 0.1, eps_s: float = 1e-3, device="cpu") -> torch.Tensor:
    """The continuous VP schedule of Song et al. (2021) mapped to sigmas; n values plus a 0."""
    t = torch.linspace(1, eps_s, n, device=device)
    return append_zero(torch.sqrt(torch.special.expm1(beta_d * t**2 / 2 + beta_min * t)))


def get_sigmas_laplace(n: int, sigma_min: float, sigma_max: float, mu: float = 0.0, beta: float = 0.5,
                       device="cpu") -> torch.Tensor:
    """Sigmas whose log follows a Laplace quantile function (Tiankai et al. 2024), clamped to the range; n values
    ending at sigma_min, with no 0 appended (as ComfyUI gives them)."""
    epsilon = 1e-5
    x = torch.linspace(0, 1, n, device=device)
    clamp = lambda v: torch.clamp(v, min=sigma_min, max=sigma_max)  # noqa: E731
    lmb = mu - beta * torch.sign(0.5 - x) * torch.log(1 - 2 * torch.abs(0.5 - x) + epsilon)
    return clamp(torch.exp(lmb))


# ---------------------------------------------------------------------------------------------- first-order


def _churn(x, sigma, n_steps, s_churn, s_tmin, s_tmax, s_noise, noise_sampler):
    """Karras et al.'s stochastic churn: raise sigma by a factor (1 + gamma) by adding fresh noise."""
    gamma = min(s_churn / n_steps, 2**0.5 - 1) if s_churn > 0 and s_tmin <= sigma <= s_tmax else 0.0
    sigma_hat = sigma * (gamma + 1)
    if gamma > 0:
        x = x + noise_sampler(sigma, sigma_hat) * s_noise * (sigma_hat**2 - sigma**2) ** 0.5
    return x, sigma_hat


def sample_euler(model, x, sigmas, extra_args=None, callback=None, disable=None, s_churn=0.0, s_tmin=0.0,
                 s_tmax=float("inf"), s_noise=1.0, noise_sampler=None):
    """Implements Algorithm 2 (Euler steps) from Karras et al. (2022), with optional churn."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        x, sigma_hat = _churn(x, sigmas[i], len(sigmas) - 1, s_churn, s_tmin, s_tmax, s_noise, noise_sampler)
        denoised = model(x, sigma_hat * s_in, **extra_args)
        d = to_d(x, sigma_hat, denoised)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigma_hat, "denoised": denoised})
        # Euler method
        x = x + d * (sigmas[i + 1] - sigma_hat)
    return x


def sample_euler_cfg_pp(model, x, sigmas, extra_args=None, callback=None, disable=None):
    """Euler with CFG++ (Chung et al. 2024): step along the unconditional noise direction, re-noised from the
    guided denoised estimate."""
    extra_args = {} if extra_args is None else extra_args
    uncond = capture_uncond_denoised(extra_args)
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        d = to_d(x, sigmas[i], uncond[0])
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        x = denoised + d * sigmas[i + 1]
    return x


def sample_euler_ancestral(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                           noise_sampler=None):
    """Ancestral sampling with Euler method steps (k-diffusion): an Euler step down to sigma_down, then fresh
    noise of std sigma_up. Rectified-flow models take `sample_euler_ancestral_RF`."""
    if is_flow(get_model_sampling(model)):
        return sample_euler_ancestral_RF(model, x, sigmas, extra_args, callback, disable, eta, s_noise, noise_sampler)
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigma_down == 0:
            x = denoised
        else:
            # Euler method, then noise
            x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


def _rf_ancestral_step(sigma, sigma_next, eta):
    """Rectified-flow ancestral split: the deterministic target sigma_down, the rescale alpha_next / alpha_down
    and the std of the fresh noise, so that x at sigma_next has the right signal and noise levels."""
    sigma_down = sigma_next * (1 + (sigma_next / sigma - 1) * eta)
    alpha_next, alpha_down = 1 - sigma_next, 1 - sigma_down
    renoise = (sigma_next**2 - sigma_down**2 * alpha_next**2 / alpha_down**2) ** 0.5
    return sigma_down, alpha_next / alpha_down, renoise


def sample_euler_ancestral_RF(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                              noise_sampler=None):
    """Ancestral Euler for rectified flow: interpolate toward the denoised estimate down to sigma_down, then
    rescale and add noise back up to sigma_next."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        sigma_down, rescale, renoise = _rf_ancestral_step(sigmas[i], sigmas[i + 1], eta)
        ratio = sigma_down / sigmas[i]
        x = ratio * x + (1 - ratio) * denoised
        if eta > 0:
            x = rescale * x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * renoise
    return x


def sample_euler_ancestral_cfg_pp(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0,
                                  s_noise=1.0, noise_sampler=None):
    """Ancestral Euler with CFG++ (Chung et al. 2024)."""
    extra_args = {} if extra_args is None else extra_args
    uncond = capture_uncond_denoised(extra_args)
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        x = denoised + to_d(x, sigmas[i], uncond[0]) * sigma_down
        if sigmas[i + 1] > 0:
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


# ---------------------------------------------------------------------------------------------- two-stage


def sample_heun(model, x, sigmas, extra_args=None, callback=None, disable=None, s_churn=0.0, s_tmin=0.0,
                s_tmax=float("inf"), s_noise=1.0, noise_sampler=None):
    """Implements Algorithm 2 (Heun steps) from Karras et al. (2022); the last step to sigma 0 is Euler."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        x, sigma_hat = _churn(x, sigmas[i], len(sigmas) - 1, s_churn, s_tmin, s_tmax, s_noise, noise_sampler)
        denoised = model(x, sigma_hat * s_in, **extra_args)
        d = to_d(x, sigma_hat, denoised)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigma_hat, "denoised": denoised})
        dt = sigmas[i + 1] - sigma_hat
        if sigmas[i + 1] == 0:
            # Euler method
            x = x + d * dt
        else:
            # Heun's method: average the slopes at both ends
            x_2 = x + d * dt
            d_2 = to_d(x_2, sigmas[i + 1], model(x_2, sigmas[i + 1] * s_in, **extra_args))
            x = x + (d + d_2) / 2 * dt
    return x


def sample_heunpp2(model, x, sigmas, extra_args=None, callback=None, disable=None, s_churn=0.0, s_tmin=0.0,
                   s_tmax=float("inf"), s_noise=1.0, noise_sampler=None):
    """Heun++ (Carzit's sd-webui-samplers-scheduler): a three-slope step weighted by the sigmas relative to the
    first sigma, falling back to a weighted Heun step and finally Euler near the end."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    s_end = sigmas[-1]
    for i in trange(len(sigmas) - 1, disable=disable):
        x, sigma_hat = _churn(x, sigmas[i], len(sigmas) - 1, s_churn, s_tmin, s_tmax, s_noise, noise_sampler)
        denoised = model(x, sigma_hat * s_in, **extra_args)
        d = to_d(x, sigma_hat, denoised)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigma_hat, "denoised": denoised})
        dt = sigmas[i + 1] - sigma_hat
        if sigmas[i + 1] == s_end:
            # Euler method
            x = x + d * dt
            continue
        x_2 = x + d * dt
        d_2 = to_d(x_2, sigmas[i + 1], model(x_2, sigmas[i + 1] * s_in, **extra_args))
        if sigmas[i + 2] == s_end:
            # Heun's method, weighted
            w2 = sigmas[i + 1] / (2 * sigmas[0])
            x = x + (d * (1 - w2) + d_2 * w2) * dt
        else:
            # Heun++: one more Euler look-ahead
            x_3 = x_2 + d_2 * (sigmas[i + 2] - sigmas[i + 1])
            d_3 = to_d(x_3, sigmas[i + 2], model(x_3, sigmas[i + 2] * s_in, **extra_args))
            w = 3 * sigmas[0]
            w2, w3 = sigmas[i + 1] / w, sigmas[i + 2] / w
            x = x + ((1 - w2 - w3) * d + w2 * d_2 + w3 * d_3) * dt
    return x


def sample_dpm_2(model, x, sigmas, extra_args=None, callback=None, disable=None, s_churn=0.0, s_tmin=0.0,
                 s_tmax=float("inf"), s_noise=1.0, noise_sampler=None):
    """A sampler inspired by DPM-Solver-2 and Algorithm 2 from Karras et al. (2022): the slope is taken at the
    log-midpoint sigma."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        x, sigma_hat = _churn(x, sigmas[i], len(sigmas) - 1, s_churn, s_tmin, s_tmax, s_noise, noise_sampler)
        denoised = model(x, sigma_hat * s_in, **extra_args)
        d = to_d(x, sigma_hat, denoised)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigma_hat, "denoised": denoised})
        if sigmas[i + 1] == 0:
            # Euler method
            x = x + d * (sigmas[i + 1] - sigma_hat)
        else:
            # DPM-Solver-2
            sigma_mid = sigma_hat.log().lerp(sigmas[i + 1].log(), 0.5).exp()
            x_2 = x + d * (sigma_mid - sigma_hat)
            d_2 = to_d(x_2, sigma_mid, model(x_2, sigma_mid * s_in, **extra_args))
            x = x + d_2 * (sigmas[i + 1] - sigma_hat)
    return x


def sample_dpm_2_ancestral(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                           noise_sampler=None):
    """Ancestral sampling with DPM-Solver second-order steps (k-diffusion)."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        d = to_d(x, sigmas[i], denoised)
        if sigma_down == 0:
            # Euler method
            x = x + d * (sigma_down - sigmas[i])
        else:
            # DPM-Solver-2, then noise
            sigma_mid = sigmas[i].log().lerp(sigma_down.log(), 0.5).exp()
            x_2 = x + d * (sigma_mid - sigmas[i])
            d_2 = to_d(x_2, sigma_mid, model(x_2, sigma_mid * s_in, **extra_args))
            x = x + d_2 * (sigma_down - sigmas[i])
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


def sample_dpmpp_2s_ancestral(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                              noise_sampler=None):
    """Ancestral sampling with DPM-Solver++(2S) second-order steps (Lu et al. 2022, "DPM-Solver++").
    Rectified-flow models take `sample_dpmpp_2s_ancestral_RF`."""
    if is_flow(get_model_sampling(model)):
        return sample_dpmpp_2s_ancestral_RF(model, x, sigmas, extra_args, callback, disable, eta, s_noise,
                                            noise_sampler)
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigma_down == 0:
            # Euler method
            x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
        else:
            # DPM-Solver++(2S): evaluate at the log-midpoint, then take the full step with that estimate
            t, t_next = -sigmas[i].log(), -sigma_down.log()
            h = t_next - t
            s = t + h / 2
            x_2 = ((-s).exp() / (-t).exp()) * x - (-h / 2).expm1() * denoised
            denoised_2 = model(x_2, (-s).exp() * s_in, **extra_args)
            x = ((-t_next).exp() / (-t).exp()) * x - (-h).expm1() * denoised_2
        if sigmas[i + 1] > 0:
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


def sample_dpmpp_2s_ancestral_RF(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0,
                                 s_noise=1.0, noise_sampler=None):
    """DPM-Solver++(2S) ancestral for rectified flow: the midpoint in lambda = log((1 - sigma) / sigma), steps
    taken by interpolating toward the denoised estimates, noise as in `sample_euler_ancestral_RF`."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        sigma_down, rescale, renoise = _rf_ancestral_step(sigmas[i], sigmas[i + 1], eta)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            # Euler method
            x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
        else:
            # DPM-Solver++(2S)
            if sigmas[i] == 1.0:
                sigma_s = 0.9999
            else:
                t_i, t_down = ((1 - sigmas[i]) / sigmas[i]).log(), ((1 - sigma_down) / sigma_down).log()
                sigma_s = ((t_i + (t_down - t_i) / 2).exp() + 1) ** -1
            ratio_s = sigma_s / sigmas[i]
            denoised_2 = model(ratio_s * x + (1 - ratio_s) * denoised, sigma_s * s_in, **extra_args)
            ratio_down = sigma_down / sigmas[i]
            x = ratio_down * x + (1 - ratio_down) * denoised_2
        if sigmas[i + 1] > 0 and eta > 0:
            x = rescale * x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * renoise
    return x


def sample_dpmpp_2s_ancestral_cfg_pp(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0,
                                     s_noise=1.0, noise_sampler=None):
    """DPM-Solver++(2S) ancestral with CFG++. As in ComfyUI, the final update uses the unconditional prediction
    of the *midpoint* call (the captured value is overwritten by the second model call)."""
    extra_args = {} if extra_args is None else extra_args
    uncond = capture_uncond_denoised(extra_args)
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigma_down == 0:
            # Euler method
            x = denoised + to_d(x, sigmas[i], uncond[0]) * sigma_down
        else:
            t, t_next = -sigmas[i].log(), -sigma_down.log()
            h = t_next - t
            s = t + h / 2
            x_2 = ((-s).exp() / (-t).exp()) * (x + (denoised - uncond[0])) - (-h / 2).expm1() * denoised
            denoised_2 = model(x_2, (-s).exp() * s_in, **extra_args)
            x = ((-t_next).exp() / (-t).exp()) * (x + (denoised - uncond[0])) - (-h).expm1() * denoised_2
        if sigmas[i + 1] > 0:
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


# ---------------------------------------------------------------------------------------------- multistep


def linear_multistep_coeff(order: int, t: np.ndarray, i: int, j: int) -> float:
    """The weight of the j-th previous derivative in a linear multistep step t[i] → t[i+1]: the integral of its
    Lagrange basis polynomial over the nodes t[i], ..., t[i-order+1]."""
    if order - 1 > i:
        raise ValueError(f"Order {order} too high for step {i}")
    nodes = [t[i - k] for k in range(order)]
    basis = np.polynomial.Polynomial([1.0])
    for k, node in enumerate(nodes):
        if k != j:
            basis = basis * np.polynomial.Polynomial([-node, 1.0]) / (nodes[j] - node)
    antiderivative = basis.integ()
    return float(antiderivative(t[i + 1]) - antiderivative(t[i]))


def sample_lms(model, x, sigmas, extra_args=None, callback=None, disable=None, order=4):
    """Linear multistep (Adams–Bashforth on variable sigma steps), as in k-diffusion; the final step to 0 is a
    denoising step."""
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones([x.shape[0]])
    sigmas_cpu = sigmas.detach().cpu().numpy().astype(np.float64)
    ds = []
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        ds = (ds + [to_d(x, sigmas[i], denoised)])[-order:]
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            cur_order = min(i + 1, order)
            coeffs = [linear_multistep_coeff(cur_order, sigmas_cpu, i, j) for j in range(cur_order)]
            x = x + sum(coeff * d for coeff, d in zip(coeffs, reversed(ds), strict=True))
    return x


def sample_dpmpp_2m(model, x, sigmas, extra_args=None, callback=None, disable=None):
    """DPM-Solver++(2M) (Lu et al. 2022): second-order multistep in log-sigma time, data prediction."""
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones([x.shape[0]])
    old_denoised = None
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        t, t_next = -sigmas[i].log(), -sigmas[i + 1].log()
        h = t_next - t
        if old_denoised is None or sigmas[i + 1] == 0:
            denoised_d = denoised
        else:
            r = (t + sigmas[i - 1].log()) / h
            denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
        x = ((-t_next).exp() / (-t).exp()) * x - (-h).expm1() * denoised_d
        old_denoised = denoised
    return x


def sample_dpmpp_2m_cfg_pp(model, x, sigmas, extra_args=None, callback=None, disable=None):
    """DPM-Solver++(2M) with CFG++ (Chung et al. 2024)."""
    extra_args = {} if extra_args is None else extra_args
    uncond = capture_uncond_denoised(extra_args)
    s_in = x.new_ones([x.shape[0]])
    old_uncond_denoised = None
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        uncond_denoised = uncond[0]
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        t, t_next = -sigmas[i].log(), -sigmas[i + 1].log()
        h = t_next - t
        if old_uncond_denoised is None or sigmas[i + 1] == 0:
            denoised_mix = -torch.exp(-h) * uncond_denoised
        else:
            r = (t + sigmas[i - 1].log()) / h
            denoised_mix = -torch.exp(-h) * uncond_denoised - torch.expm1(-h) * (1 / (2 * r)) * (
                denoised - old_uncond_denoised)
        x = denoised + denoised_mix + torch.exp(-h) * x
        old_uncond_denoised = uncond_denoised
    return x


def sample_ipndm(model, x, sigmas, extra_args=None, callback=None, disable=None, max_order=4):
    """Improved PNDM (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator"):
    fixed Adams–Bashforth weights on the last `max_order` derivatives; the final step to 0 denoises."""
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones([x.shape[0]])
    weights = {1: [1.0], 2: [3 / 2, -1 / 2], 3: [23 / 12, -16 / 12, 5 / 12], 4: [55 / 24, -59 / 24, 37 / 24, -9 / 24]}
    history = []
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        d = (x - denoised) / sigmas[i]
        order = min(max_order, i + 1)
        if sigmas[i + 1] == 0:
            x_next = denoised
        elif order == 1:
            x_next = x + (sigmas[i + 1] - sigmas[i]) * d
        else:
            w = weights[order]
            slope = w[0] * d
            for k in range(1, order):
                slope = slope + w[k] * history[-k]
            x_next = x + (sigmas[i + 1] - sigmas[i]) * slope
        history = (history + [d])[-(max_order - 1):]
        x = x_next
    return x


def _ipndm_v_coefficients(order: int, h: list) -> list:
    """Variable-step iPNDM weights (from the gits/AMED reference code); h[0] is this step, h[k] the k-th previous."""
    if order == 2:
        return [(2 + h[0] / h[1]) / 2, -(h[0] / h[1]) / 2]
    t1 = (1 - h[0] / (3 * (h[0] + h[1])) * (h[0] * (h[0] + h[1])) / (h[1] * (h[1] + h[2]))) / 2
    if order == 3:
        return [(2 + h[0] / h[1]) / 2 + t1, -(h[0] / h[1]) / 2 - (1 + h[1] / h[2]) * t1, t1 * h[1] / h[2]]
    t2 = ((1 - h[0] / (3 * (h[0] + h[1]))) / 2 + (1 - h[0] / (2 * (h[0] + h[1]))) * h[0] / (6 * (h[0] + h[1] + h[2]))) \
        * (h[0] * (h[0] + h[1]) * (h[0] + h[1] + h[2])) / (h[1] * (h[1] + h[2]) * (h[1] + h[2] + h[3]))
    ratio = h[1] * (h[1] + h[2]) / (h[2] * (h[2] + h[3]))
    return [
        (2 + h[0] / h[1]) / 2 + t1 + t2,
        -(h[0] / h[1]) / 2 - (1 + h[1] / h[2]) * t1 - (1 + h[1] / h[2] + ratio) * t2,
        t1 * h[1] / h[2] + (h[1] / h[2] + ratio * (1 + h[2] / h[3])) * t2,
        -t2 * ratio * h[1] / h[2],
    ]


def sample_ipndm_v(model, x, sigmas, extra_args=None, callback=None, disable=None, max_order=4):
    """iPNDM with variable-step Adams–Bashforth weights (Zhou et al. 2024, "Fast ODE-based Sampling for
    Diffusion Models in Around 5 Steps")."""
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones([x.shape[0]])
    history = []
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        d = (x - denoised) / sigmas[i]
        order = min(max_order, i + 1)
        if sigmas[i + 1] == 0:
            x_next = denoised
        elif order == 1:
            x_next = x + (sigmas[i + 1] - sigmas[i]) * d
        else:
            steps = [sigmas[i + 1] - sigmas[i]] + [sigmas[i - k] - sigmas[i - k - 1] for k in range(order - 1)]
            coeffs = _ipndm_v_coefficients(order, steps)
            slope = coeffs[0] * d
            for k in range(1, order):
                slope = slope + coeffs[k] * history[-k]
            x_next = x + (sigmas[i + 1] - sigmas[i]) * slope
        history = (history + [d])[-(max_order - 1):]
        x = x_next
    return x


def sample_deis(model, x, sigmas, extra_args=None, callback=None, disable=None, max_order=3, deis_mode="tab"):
    """DEIS (Zhang & Chen 2023): exponential-integrator multistep with polynomial extrapolation of the noise
    prediction, coefficients integrated numerically in VP time ("tab") or in closed form in sigma ("rhoab")."""
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones([x.shape[0]])
    coeff_list = deis.get_deis_coeff_list(sigmas, max_order, deis_mode=deis_mode)
    history = []
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        d = (x - denoised) / sigmas[i]
        order = 1 if sigmas[i + 1] <= 0 else min(max_order, i + 1)
        if order == 1:
            x_next = x + (sigmas[i + 1] - sigmas[i]) * d
        else:
            coeffs = coeff_list[i]
            x_next = x + coeffs[0] * d
            for k in range(1, order):
                x_next = x_next + coeffs[k] * history[-k]
        history = (history + [d])[-(max_order - 1):]
        x = x_next
    return x


def _res_multistep(model, x, sigmas, extra_args, callback, disable, s_noise, noise_sampler, eta, cfg_pp):
    """RES second-order multistep (Zhang et al. 2023, "Improved Order Analysis and Design of Exponential
    Integrator for Diffusion Models Sampling", arXiv:2308.02157), optionally ancestral and/or CFG++."""
    extra_args = {} if extra_args is None else extra_args
    uncond = capture_uncond_denoised(extra_args) if cfg_pp else None
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    phi1 = lambda t: torch.expm1(t) / t  # noqa: E731
    phi2 = lambda t: (phi1(t) - 1.0) / t  # noqa: E731
    old_sigma_down = old_denoised = None
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        base = uncond[0] if cfg_pp else denoised
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigma_down == 0 or old_denoised is None:
            # Euler method
            if cfg_pp:
                x = denoised + to_d(x, sigmas[i], base) * sigma_down
            else:
                x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
        else:
            t, t_old, t_next, t_prev = (-s.log() for s in (sigmas[i], old_sigma_down, sigma_down, sigmas[i - 1]))
            h = t_next - t
            c2 = (t_prev - t_old) / h
            phi1_val, phi2_val = phi1(-h), phi2(-h)
            b1 = torch.nan_to_num(phi1_val - phi2_val / c2, nan=0.0)
            b2 = torch.nan_to_num(phi2_val / c2, nan=0.0)
            if cfg_pp:
                x = x + (denoised - base)
            x = (-h).exp() * x + h * (b1 * base + b2 * old_denoised)
        if sigmas[i + 1] > 0:
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
        old_denoised = base
        old_sigma_down = sigma_down
    return x


def sample_res_multistep(model, x, sigmas, extra_args=None, callback=None, disable=None, s_noise=1.0,
                         noise_sampler=None):
    """RES multistep, deterministic (see `_res_multistep`)."""
    return _res_multistep(model, x, sigmas, extra_args, callback, disable, s_noise, noise_sampler, 0.0, False)


def sample_res_multistep_cfg_pp(model, x, sigmas, extra_args=None, callback=None, disable=None, s_noise=1.0,
                                noise_sampler=None):
    """RES multistep with CFG++."""
    return _res_multistep(model, x, sigmas, extra_args, callback, disable, s_noise, noise_sampler, 0.0, True)


def sample_res_multistep_ancestral(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0,
                                   s_noise=1.0, noise_sampler=None):
    """RES multistep with ancestral noise."""
    return _res_multistep(model, x, sigmas, extra_args, callback, disable, s_noise, noise_sampler, eta, False)


def sample_res_multistep_ancestral_cfg_pp(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0,
                                          s_noise=1.0, noise_sampler=None):
    """RES multistep with ancestral noise and CFG++."""
    return _res_multistep(model, x, sigmas, extra_args, callback, disable, s_noise, noise_sampler, eta, True)


def sample_gradient_estimation(model, x, sigmas, extra_args=None, callback=None, disable=None, ge_gamma=2.0,
                               cfg_pp=False):
    """Gradient-estimation sampler (Permenter & Yuan 2024, "Interpreting and Improving Diffusion Models from an
    Optimization Perspective"): Euler with the slope extrapolated as gamma·d + (1 - gamma)·d_prev."""
    extra_args = {} if extra_args is None else extra_args
    uncond = capture_uncond_denoised(extra_args) if cfg_pp else None
    s_in = x.new_ones([x.shape[0]])
    old_d = None
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        d = to_d(x, sigmas[i], uncond[0] if cfg_pp else denoised)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        dt = sigmas[i + 1] - sigmas[i]
        if sigmas[i + 1] == 0:
            # Denoising step
            x = denoised
        else:
            # Euler method, then the gradient-estimation correction
            x = denoised + d * sigmas[i + 1] if cfg_pp else x + d * dt
            if i >= 1:
                x = x + (ge_gamma - 1) * (d - old_d) * dt
        old_d = d
    return x


def sample_gradient_estimation_cfg_pp(model, x, sigmas, extra_args=None, callback=None, disable=None, ge_gamma=2.0):
    """Gradient estimation with CFG++."""
    return sample_gradient_estimation(model, x, sigmas, extra_args, callback, disable, ge_gamma, cfg_pp=True)


# ---------------------------------------------------------------------------------------------- DDPM / LCM


def _ddpm_step(x, sigma, sigma_prev, noise, noise_sampler):
    """One DDPM ancestral step (Ho et al. 2020, eq. 11) in VP space, from the predicted noise."""
    alpha_cumprod = 1 / ((sigma * sigma) + 1)
    alpha_cumprod_prev = 1 / ((sigma_prev * sigma_prev) + 1)
    alpha = alpha_cumprod / alpha_cumprod_prev
    mu = (1.0 / alpha).sqrt() * (x - (1 - alpha) * noise / (1 - alpha_cumprod).sqrt())
    if sigma_prev > 0:
        mu += ((1 - alpha) * (1.0 - alpha_cumprod_prev) / (1.0 - alpha_cumprod)).sqrt() * noise_sampler(sigma, sigma_prev)
    return mu


def sample_ddpm(model, x, sigmas, extra_args=None, callback=None, disable=None, noise_sampler=None):
    """DDPM ancestral sampling (Ho et al. 2020) on the given sigmas: each step converts to VP space, takes the
    posterior-mean step plus posterior noise, and converts back."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        eps = (x - denoised) / sigmas[i]
        x = _ddpm_step(x / torch.sqrt(1.0 + sigmas[i] ** 2.0), sigmas[i], sigmas[i + 1], eps, noise_sampler)
        if sigmas[i + 1] != 0:
            x *= torch.sqrt(1.0 + sigmas[i + 1] ** 2.0)
    return x


def sample_lcm(model, x, sigmas, extra_args=None, callback=None, disable=None, noise_sampler=None):
    """Latent Consistency Model sampling (Luo et al. 2023): jump to the denoised estimate, re-noise to the next
    sigma with fresh noise."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    model_sampling = get_model_sampling(model)
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        x = denoised
        if sigmas[i + 1] > 0:
            noise = noise_sampler(sigmas[i], sigmas[i + 1])
            if model_sampling is not None:
                x = model_sampling.noise_scaling(sigmas[i + 1], noise, x)
            else:
                x = x + noise * sigmas[i + 1]
    return x


# The SDE family and DPM-Solver fast/adaptive: ComfyUI exposes them from this module too.
from comfy.k_diffusion.dpm_solver import (  # noqa: E402, F401
    DPMSolver,
    PIDStepSizeController,
    sample_dpm_adaptive,
    sample_dpm_fast,
)
from comfy.k_diffusion.sampling_sde import (  # noqa: E402, F401
    sample_dpmpp_2m_sde,
    sample_dpmpp_2m_sde_gpu,
    sample_dpmpp_2m_sde_heun,
    sample_dpmpp_2m_sde_heun_gpu,
    sample_dpmpp_3m_sde,
    sample_dpmpp_3m_sde_gpu,
    sample_dpmpp_sde,
    sample_dpmpp_sde_gpu,
    sample_er_sde,
    sample_sa_solver,
    sample_sa_solver_pece,
    sample_seeds_2,
    sample_seeds_3,
)

# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "a sampler or helper Kiln does not run"

DDPMSampler_step = unsupported_function(__name__, 'DDPMSampler_step', 'x, sigma, sigma_prev, noise, noise_sampler', _REASON)
ei_h_phi_1 = unsupported_function(__name__, 'ei_h_phi_1', 'h', _REASON)
ei_h_phi_2 = unsupported_function(__name__, 'ei_h_phi_2', 'h', _REASON)
generic_step_sampler = unsupported_function(__name__, 'generic_step_sampler', 'model, x, sigmas, extra_args=, callback=, disable=, noise_sampler=, step_function=', _REASON)
res_multistep = unsupported_function(__name__, 'res_multistep', 'model, x, sigmas, extra_args=, callback=, disable=, s_noise=, noise_sampler=, eta=, cfg_pp=', _REASON)
sample_dpm_2_ancestral_RF = unsupported_function(__name__, 'sample_dpm_2_ancestral_RF', 'model, x, sigmas, extra_args=, callback=, disable=, eta=, s_noise=, noise_sampler=', _REASON)
