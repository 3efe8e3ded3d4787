"""Stochastic samplers: the DPM-Solver++ SDE family (Brownian-tree noise), SEEDS, ER-SDE and SA-Solver.

Written in half-log-SNR time lambda = log(alpha / sigma) so that they also run on rectified-flow models;
for the variance-exploding space of EPS / V models lambda = -log(sigma) and alpha = 1.
Importable from `comfy.k_diffusion.sampling` like every other sampler.
"""

from __future__ import annotations

import torch
from tqdm.auto import trange

from comfy.k_diffusion import sa_solver
from comfy.k_diffusion.common import (
    brownian_noise_sampler,
    default_noise_sampler,
    get_ancestral_step,
    get_model_sampling,
    half_log_snr_to_sigma,
    offset_first_sigma_for_snr,
    sigma_to_half_log_snr,
)


def sample_dpmpp_sde(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                     noise_sampler=None, r=1 / 2):
    """DPM-Solver++ (stochastic), a two-stage SDE solver (Lu et al. 2022) with Brownian-tree noise."""
    if len(sigmas) <= 1:
        return x
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or brownian_noise_sampler(x, sigmas, extra_args.get("seed"), cpu=True)
    s_in = x.new_ones([x.shape[0]])
    ms = get_model_sampling(model)
    sigmas = offset_first_sigma_for_snr(sigmas, ms)
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            # Denoising step
            x = denoised
            continue
        lambda_s, lambda_t = sigma_to_half_log_snr(sigmas[i], ms), sigma_to_half_log_snr(sigmas[i + 1], ms)
        h = lambda_t - lambda_s
        lambda_s_1 = lambda_s + r * h
        fac = 1 / (2 * r)
        sigma_s_1 = half_log_snr_to_sigma(lambda_s_1, ms)
        alpha_s = sigmas[i] * lambda_s.exp()
        alpha_s_1 = sigma_s_1 * lambda_s_1.exp()
        alpha_t = sigmas[i + 1] * lambda_t.exp()
        # Step 1: to the intermediate point, ancestral in log-SNR
        sd, su = get_ancestral_step(lambda_s.neg().exp(), lambda_s_1.neg().exp(), eta)
        h_ = -sd.log() - lambda_s
        x_2 = (alpha_s_1 / alpha_s) * (-h_).exp() * x - alpha_s_1 * (-h_).expm1() * denoised
        if eta > 0 and s_noise > 0:
            x_2 = x_2 + alpha_s_1 * noise_sampler(sigmas[i], sigma_s_1) * s_noise * su
        denoised_2 = model(x_2, sigma_s_1 * s_in, **extra_args)
        # Step 2: the full step with the mixed estimate
        sd, su = get_ancestral_step(lambda_s.neg().exp(), lambda_t.neg().exp(), eta)
        h_ = -sd.log() - lambda_s
        denoised_d = (1 - fac) * denoised + fac * denoised_2
        x = (alpha_t / alpha_s) * (-h_).exp() * x - alpha_t * (-h_).expm1() * denoised_d
        if eta > 0 and s_noise > 0:
            x = x + alpha_t * noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * su
    return x


def sample_dpmpp_sde_gpu(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                         noise_sampler=None, r=1 / 2):
    """DPM-Solver++ (stochastic) with the Brownian tree on the latent's device."""
    if len(sigmas) <= 1:
        return x
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or brownian_noise_sampler(x, sigmas, extra_args.get("seed"), cpu=False)
    return sample_dpmpp_sde(model, x, sigmas, extra_args, callback, disable, eta, s_noise, noise_sampler, r)


def sample_dpmpp_2m_sde(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                        noise_sampler=None, solver_type="midpoint"):
    """DPM-Solver++(2M) SDE (Lu et al. 2022), second-order multistep with a midpoint or Heun correction."""
    if len(sigmas) <= 1:
        return x
    if solver_type not in {"heun", "midpoint"}:
        raise ValueError("solver_type must be 'heun' or 'midpoint'")
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or brownian_noise_sampler(x, sigmas, extra_args.get("seed"), cpu=True)
    s_in = x.new_ones([x.shape[0]])
    ms = get_model_sampling(model)
    sigmas = offset_first_sigma_for_snr(sigmas, ms)
    old_denoised, h, h_last = None, None, None
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            # Denoising step
            x = denoised
        else:
            lambda_s, lambda_t = sigma_to_half_log_snr(sigmas[i], ms), sigma_to_half_log_snr(sigmas[i + 1], ms)
            h = lambda_t - lambda_s
            h_eta = h * (eta + 1)
            alpha_t = sigmas[i + 1] * lambda_t.exp()
            x = sigmas[i + 1] / sigmas[i] * (-h * eta).exp() * x + alpha_t * (-h_eta).expm1().neg() * denoised
            if old_denoised is not None:
                r = h_last / h
                if solver_type == "heun":
                    x = x + alpha_t * ((-h_eta).expm1().neg() / (-h_eta) + 1) * (1 / r) * (denoised - old_denoised)
                else:
                    x = x + 0.5 * alpha_t * (-h_eta).expm1().neg() * (1 / r) * (denoised - old_denoised)
            if eta > 0 and s_noise > 0:
                noise = noise_sampler(sigmas[i], sigmas[i + 1])
                x = x + noise * sigmas[i + 1] * (-2 * h * eta).expm1().neg().sqrt() * s_noise
        old_denoised = denoised
        h_last = h
    return x


def sample_dpmpp_2m_sde_gpu(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                            noise_sampler=None, solver_type="midpoint"):
    """DPM-Solver++(2M) SDE with the Brownian tree on the latent's device."""
    if len(sigmas) <= 1:
        return x
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or brownian_noise_sampler(x, sigmas, extra_args.get("seed"), cpu=False)
    return sample_dpmpp_2m_sde(model, x, sigmas, extra_args, callback, disable, eta, s_noise, noise_sampler,
                               solver_type)


def sample_dpmpp_2m_sde_heun(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                             noise_sampler=None, solver_type="heun"):
    """DPM-Solver++(2M) SDE with the Heun-type correction."""
    return sample_dpmpp_2m_sde(model, x, sigmas, extra_args, callback, disable, eta, s_noise, noise_sampler,
                               solver_type)


def sample_dpmpp_2m_sde_heun_gpu(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0,
                                 s_noise=1.0, noise_sampler=None, solver_type="heun"):
    """DPM-Solver++(2M) SDE, Heun-type correction, Brownian tree on the latent's device."""
    return sample_dpmpp_2m_sde_gpu(model, x, sigmas, extra_args, callback, disable, eta, s_noise, noise_sampler,
                                   solver_type)


def sample_dpmpp_3m_sde(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                        noise_sampler=None):
    """DPM-Solver++(3M) SDE: third-order multistep, starting with first and second order."""
    if len(sigmas) <= 1:
        return x
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or brownian_noise_sampler(x, sigmas, extra_args.get("seed"), cpu=True)
    s_in = x.new_ones([x.shape[0]])
    ms = get_model_sampling(model)
    sigmas = offset_first_sigma_for_snr(sigmas, ms)
    denoised_1, denoised_2 = None, None
    h, h_1, h_2 = None, None, None
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            # Denoising step
            x = denoised
        else:
            lambda_s, lambda_t = sigma_to_half_log_snr(sigmas[i], ms), sigma_to_half_log_snr(sigmas[i + 1], ms)
            h = lambda_t - lambda_s
            h_eta = h * (eta + 1)
            alpha_t = sigmas[i + 1] * lambda_t.exp()
            x = sigmas[i + 1] / sigmas[i] * (-h * eta).exp() * x + alpha_t * (-h_eta).expm1().neg() * denoised
            phi_2 = h_eta.neg().expm1() / h_eta + 1
            if h_2 is not None:
                # DPM-Solver++(3M) SDE
                r0, r1 = h_1 / h, h_2 / h
                d1_0 = (denoised - denoised_1) / r0
                d1_1 = (denoised_1 - denoised_2) / r1
                d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1)
                d2 = (d1_0 - d1_1) / (r0 + r1)
                phi_3 = phi_2 / h_eta - 0.5
                x = x + (alpha_t * phi_2) * d1 - (alpha_t * phi_3) * d2
            elif h_1 is not None:
                # DPM-Solver++(2M) SDE
                x = x + (alpha_t * phi_2) * ((denoised - denoised_1) / (h_1 / h))
            if eta > 0 and s_noise > 0:
                noise = noise_sampler(sigmas[i], sigmas[i + 1])
                x = x + noise * sigmas[i + 1] * (-2 * h * eta).expm1().neg().sqrt() * s_noise
        denoised_1, denoised_2 = denoised, denoised_1
        h_1, h_2 = h, h_1
    return x


def sample_dpmpp_3m_sde_gpu(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                            noise_sampler=None):
    """DPM-Solver++(3M) SDE with the Brownian tree on the latent's device."""
    if len(sigmas) <= 1:
        return x
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or brownian_noise_sampler(x, sigmas, extra_args.get("seed"), cpu=False)
    return sample_dpmpp_3m_sde(model, x, sigmas, extra_args, callback, disable, eta, s_noise, noise_sampler)


def sample_seeds_2(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                   noise_sampler=None, r=0.5):
    """SEEDS-2 (Gonzalez et al. 2023, "SEEDS: Exponential SDE Solvers for Fast High-Quality Sampling from
    Diffusion Models", arXiv:2305.14267): two-stage stochastic exponential solver, data prediction."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    inject_noise = eta > 0 and s_noise > 0
    ms = get_model_sampling(model)
    sigmas = offset_first_sigma_for_snr(sigmas, ms)
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        lambda_s, lambda_t = sigma_to_half_log_snr(sigmas[i], ms), sigma_to_half_log_snr(sigmas[i + 1], ms)
        h = lambda_t - lambda_s
        h_eta = h * (eta + 1)
        lambda_s_1 = lambda_s + r * h
        fac = 1 / (2 * r)
        sigma_s_1 = half_log_snr_to_sigma(lambda_s_1, ms)
        alpha_s_1 = sigma_s_1 * lambda_s_1.exp()
        alpha_t = sigmas[i + 1] * lambda_t.exp()
        coeff_1, coeff_2 = (-r * h_eta).expm1(), (-h_eta).expm1()
        if inject_noise:
            noise_coeff_1 = (-2 * r * h * eta).expm1().neg().sqrt()
            noise_coeff_2 = (-r * h * eta).exp() * (-2 * (1 - r) * h * eta).expm1().neg().sqrt()
            noise_1, noise_2 = noise_sampler(sigmas[i], sigma_s_1), noise_sampler(sigma_s_1, sigmas[i + 1])
        # Step 1
        x_2 = sigma_s_1 / sigmas[i] * (-r * h * eta).exp() * x - alpha_s_1 * coeff_1 * denoised
        if inject_noise:
            x_2 = x_2 + sigma_s_1 * (noise_coeff_1 * noise_1) * s_noise
        denoised_2 = model(x_2, sigma_s_1 * s_in, **extra_args)
        # Step 2
        denoised_d = (1 - fac) * denoised + fac * denoised_2
        x = sigmas[i + 1] / sigmas[i] * (-h * eta).exp() * x - alpha_t * coeff_2 * denoised_d
        if inject_noise:
            x = x + sigmas[i + 1] * (noise_coeff_2 * noise_1 + noise_coeff_1 * noise_2) * s_noise
    return x


def sample_seeds_3(model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0,
                   noise_sampler=None, r_1=1.0 / 3, r_2=2.0 / 3):
    """SEEDS-3 (Gonzalez et al. 2023): three-stage stochastic exponential solver, data prediction."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    inject_noise = eta > 0 and s_noise > 0
    ms = get_model_sampling(model)
    sigmas = offset_first_sigma_for_snr(sigmas, ms)
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        lambda_s, lambda_t = sigma_to_half_log_snr(sigmas[i], ms), sigma_to_half_log_snr(sigmas[i + 1], ms)
        h = lambda_t - lambda_s
        h_eta = h * (eta + 1)
        lambda_s_1, lambda_s_2 = lambda_s + r_1 * h, lambda_s + r_2 * h
        sigma_s_1, sigma_s_2 = half_log_snr_to_sigma(lambda_s_1, ms), half_log_snr_to_sigma(lambda_s_2, ms)
        alpha_s_1 = sigma_s_1 * lambda_s_1.exp()
        alpha_s_2 = sigma_s_2 * lambda_s_2.exp()
        alpha_t = sigmas[i + 1] * lambda_t.exp()
        coeff_1, coeff_2, coeff_3 = (-r_1 * h_eta).expm1(), (-r_2 * h_eta).expm1(), (-h_eta).expm1()
        if inject_noise:
            noise_coeff_1 = (-2 * r_1 * h * eta).expm1().neg().sqrt()
            noise_coeff_2 = (-r_1 * h * eta).exp() * (-2 * (r_2 - r_1) * h * eta).expm1().neg().sqrt()
            noise_coeff_3 = (-r_2 * h * eta).exp() * (-2 * (1 - r_2) * h * eta).expm1().neg().sqrt()
            noise_1 = noise_sampler(sigmas[i], sigma_s_1)
            noise_2 = noise_sampler(sigma_s_1, sigma_s_2)
            noise_3 = noise_sampler(sigma_s_2, sigmas[i + 1])
        # Step 1
        x_2 = sigma_s_1 / sigmas[i] * (-r_1 * h * eta).exp() * x - alpha_s_1 * coeff_1 * denoised
        if inject_noise:
            x_2 = x_2 + sigma_s_1 * (noise_coeff_1 * noise_1) * s_noise
        denoised_2 = model(x_2, sigma_s_1 * s_in, **extra_args)
        # Step 2
        x_3 = sigma_s_2 / sigmas[i] * (-r_2 * h * eta).exp() * x - alpha_s_2 * coeff_2 * denoised \
            + (r_2 / r_1) * alpha_s_2 * (coeff_2 / (r_2 * h_eta) + 1) * (denoised_2 - denoised)
        if inject_noise:
            x_3 = x_3 + sigma_s_2 * (noise_coeff_2 * noise_1 + noise_coeff_1 * noise_2) * s_noise
        denoised_3 = model(x_3, sigma_s_2 * s_in, **extra_args)
        # Step 3
        x = sigmas[i + 1] / sigmas[i] * (-h * eta).exp() * x - alpha_t * coeff_3 * denoised \
            + (1.0 / r_2) * alpha_t * (coeff_3 / h_eta + 1) * (denoised_3 - denoised)
        if inject_noise:
            x = x + sigmas[i + 1] * (noise_coeff_3 * noise_1 + noise_coeff_2 * noise_2 + noise_coeff_1 * noise_3) \
                * s_noise
    return x


def sample_er_sde(model, x, sigmas, extra_args=None, callback=None, disable=None, s_noise=1.0, noise_sampler=None,
                  noise_scaler=None, max_stage=3):
    """Extended Reverse-Time SDE solver, VP ER-SDE-Solver-3 (Cui et al. 2023, arXiv:2309.06169): up to third
    order, with the integrals of the noise scaler taken by a 200-point Riemann sum."""
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    if noise_scaler is None:
        def noise_scaler(v):
            return v * ((v**0.3).exp() + 10.0)
    num_points = 200.0
    point_indices = torch.arange(0, num_points, dtype=torch.float32, device=x.device)
    ms = get_model_sampling(model)
    sigmas = offset_first_sigma_for_snr(sigmas, ms)
    er_lambdas = sigma_to_half_log_snr(sigmas, ms).neg().exp()  # sigma_t / alpha_t
    old_denoised = old_denoised_d = None
    for i in trange(len(sigmas) - 1, disable=disable):
        denoised = model(x, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        stage_used = min(max_stage, i + 1)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            er_lambda_s, er_lambda_t = er_lambdas[i], er_lambdas[i + 1]
            alpha_s = sigmas[i] / er_lambda_s
            alpha_t = sigmas[i + 1] / er_lambda_t
            r = noise_scaler(er_lambda_t) / noise_scaler(er_lambda_s)
            # Stage 1: Euler
            x = (alpha_t / alpha_s) * r * x + alpha_t * (1 - r) * denoised
            if stage_used >= 2:
                dt = er_lambda_t - er_lambda_s
                step = -dt / num_points
                lambda_pos = er_lambda_t + point_indices * step
                scaled_pos = noise_scaler(lambda_pos)
                # Stage 2
                s = torch.sum(1 / scaled_pos) * step
                denoised_d = (denoised - old_denoised) / (er_lambda_s - er_lambdas[i - 1])
                x = x + alpha_t * (dt + s * noise_scaler(er_lambda_t)) * denoised_d
                if stage_used >= 3:
                    # Stage 3
                    s_u = torch.sum((lambda_pos - er_lambda_s) / scaled_pos) * step
                    denoised_u = (denoised_d - old_denoised_d) / ((er_lambda_s - er_lambdas[i - 2]) / 2)
                    x = x + alpha_t * ((dt**2) / 2 + s_u * noise_scaler(er_lambda_t)) * denoised_u
                old_denoised_d = denoised_d
            if s_noise > 0:
                noise_std = (er_lambda_t**2 - er_lambda_s**2 * r**2).sqrt().nan_to_num(nan=0.0)
                x = x + alpha_t * noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * noise_std
        old_denoised = denoised
    return x


def sample_sa_solver(model, x, sigmas, extra_args=None, callback=None, disable=False, tau_func=None, s_noise=1.0,
                     noise_sampler=None, predictor_order=3, corrector_order=4, use_pece=False, simple_order_2=False):
    """SA-Solver (Xue et al. 2023, NeurIPS): stochastic Adams predictor–corrector in half-log-SNR time; by default
    stochastic (tau = 1) between 20% and 80% of the schedule. `use_pece` re-evaluates after each correction."""
    if len(sigmas) <= 1:
        return x
    extra_args = {} if extra_args is None else extra_args
    noise_sampler = noise_sampler or default_noise_sampler(x, seed=extra_args.get("seed"))
    s_in = x.new_ones([x.shape[0]])
    ms = get_model_sampling(model)
    sigmas = offset_first_sigma_for_snr(sigmas, ms)
    lambdas = sigma_to_half_log_snr(sigmas, ms)
    if tau_func is None:
        tau_func = sa_solver.get_tau_interval_func(ms.percent_to_sigma(0.2), ms.percent_to_sigma(0.8), eta=1.0)
    max_used_order = max(predictor_order, corrector_order)
    x_pred = x
    h, tau_t, noise = 0.0, 0.0, 0.0
    pred_list = []
    lower_order_to_end = sigmas[-1].item() == 0  # lower the order near the end for stability
    for i in trange(len(sigmas) - 1, disable=disable):
        # Evaluation
        denoised = model(x_pred, sigmas[i] * s_in, **extra_args)
        if callback is not None:
            callback({"x": x_pred, "i": i, "sigma": sigmas[i], "sigma_hat": sigmas[i], "denoised": denoised})
        pred_list = (pred_list + [denoised])[-max_used_order:]
        predictor_order_used = min(predictor_order, len(pred_list))
        if i == 0 or (sigmas[i + 1] == 0 and not use_pece):
            corrector_order_used = 0
        else:
            corrector_order_used = min(corrector_order, len(pred_list))
        if lower_order_to_end:
            predictor_order_used = min(predictor_order_used, len(sigmas) - 2 - i)
            corrector_order_used = min(corrector_order_used, len(sigmas) - 1 - i)
        # Corrector
        if corrector_order_used == 0:
            x = x_pred
        else:
            b = sa_solver.compute_stochastic_adams_b_coeffs(
                sigmas[i], lambdas[i - corrector_order_used + 1:i + 1], lambdas[i - 1], lambdas[i], tau_t,
                simple_order_2, is_corrector_step=True)
            preds = torch.stack(pred_list[-corrector_order_used:], dim=1)
            x = sigmas[i] / sigmas[i - 1] * (-(tau_t**2) * h).exp() * x + torch.tensordot(preds, b, dims=([1], [0]))
            if tau_t > 0 and s_noise > 0:
                x = x + noise  # the previous predictor step's noise
            if use_pece:
                denoised = model(x, sigmas[i] * s_in, **extra_args)
                pred_list[-1] = denoised
        # Predictor
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            tau_t = tau_func(sigmas[i + 1])
            b = sa_solver.compute_stochastic_adams_b_coeffs(
                sigmas[i + 1], lambdas[i - predictor_order_used + 1:i + 1], lambdas[i], lambdas[i + 1], tau_t,
                simple_order_2, is_corrector_step=False)
            preds = torch.stack(pred_list[-predictor_order_used:], dim=1)
            h = lambdas[i + 1] - lambdas[i]
            x_pred = sigmas[i + 1] / sigmas[i] * (-(tau_t**2) * h).exp() * x + torch.tensordot(preds, b, dims=([1], [0]))
            if tau_t > 0 and s_noise > 0:
                noise = noise_sampler(sigmas[i], sigmas[i + 1]) * sigmas[i + 1] * (-2 * tau_t**2 * h).expm1().neg().sqrt() \
                    * s_noise
                x_pred = x_pred + noise
    return x


def sample_sa_solver_pece(model, x, sigmas, extra_args=None, callback=None, disable=False, tau_func=None,
                          s_noise=1.0, noise_sampler=None, predictor_order=3, corrector_order=4, simple_order_2=False):
    """SA-Solver in PECE mode (predict, evaluate, correct, evaluate)."""
    return sample_sa_solver(model, x, sigmas, extra_args, callback, disable, tau_func, s_noise, noise_sampler,
                            predictor_order, corrector_order, use_pece=True, simple_order_2=simple_order_2)
