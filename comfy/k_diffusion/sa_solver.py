"""Coefficients of SA-Solver (Xue et al. 2023, "SA-Solver: Stochastic Adams Solver for Fast Sampling of
Diffusion Models"), data-prediction form, in half-log-SNR time lambda."""

from __future__ import annotations

from collections.abc import Callable

import torch


def compute_exponential_coeffs(s: torch.Tensor, t: torch.Tensor, solver_order: int, tau_t: float) -> torch.Tensor:
    """J_p = k ∫_s^t exp(k (x - t)) x^p dx for p = 0 .. solver_order-1, k = 1 + tau². By parts:
    J_p = (t^p - s^p e^{-k h}) - (p / k) J_{p-1}, h = t - s. Returns `[solver_order]`."""
    k = 1 + tau_t**2
    decay = (-k * (t - s)).exp()
    terms = []
    for p in range(solver_order):
        boundary = t**p - s**p * decay
        terms.append(boundary if p == 0 else boundary - (p / k) * terms[-1])
    return torch.stack(terms)


def compute_simple_stochastic_adams_b_coeffs(sigma_next, curr_lambdas, lambda_s, lambda_t, tau_t,
                                             is_corrector_step=False) -> torch.Tensor:
    """The simplified order-2 coefficients of the paper's Appendix D (`[2]`: older node first)."""
    tau_mul = 1 + tau_t**2
    h = lambda_t - lambda_s
    alpha_t = sigma_next * lambda_t.exp()
    if is_corrector_step:
        b_1 = alpha_t * (0.5 * tau_mul * h)
        b_2 = alpha_t * (-h * tau_mul).expm1().neg() - b_1
    else:
        b_2 = alpha_t * (0.5 * tau_mul * h**2) / (curr_lambdas[-2] - lambda_s)
        b_1 = alpha_t * (-h * tau_mul).expm1().neg() - b_2
    return torch.stack([b_2, b_1])


def compute_stochastic_adams_b_coeffs(sigma_next, curr_lambdas, lambda_s, lambda_t, tau_t, simple_order_2=False,
                                      is_corrector_step=False) -> torch.Tensor:
    """The weights b_i (eqs. 15 and 18) of the data predictions at `curr_lambdas` for a step lambda_s → lambda_t:
    alpha_t times the exponentially weighted integrals of their Lagrange basis polynomials. `[len(curr_lambdas)]`."""
    n = curr_lambdas.shape[0]
    if simple_order_2 and n == 2:
        return compute_simple_stochastic_adams_b_coeffs(sigma_next, curr_lambdas, lambda_s, lambda_t, tau_t,
                                                        is_corrector_step)
    moments = compute_exponential_coeffs(lambda_s, lambda_t, n, tau_t)
    # Weights w with Σ_j w_j λ_j^p = moment_p for every p < n integrate the interpolating polynomial exactly.
    vandermonde_t = torch.vander(curr_lambdas, n, increasing=True).T
    lagrange_integrals = torch.linalg.solve(vandermonde_t, moments)
    return sigma_next * lambda_t.exp() * lagrange_integrals


def get_tau_interval_func(start_sigma: float, end_sigma: float, eta: float = 1.0) -> Callable:
    """tau(sigma) = eta inside [end_sigma, start_sigma], else 0 (an ODE step); eta <= 0 gives an ODE."""

    def tau_func(sigma) -> float:
        if eta <= 0:
            return 0.0
        if isinstance(sigma, torch.Tensor):
            sigma = sigma.item()
        return eta if start_sigma >= sigma >= end_sigma else 0.0

    return tau_func
