"""DEIS coefficients (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator").

A step sigma_i → sigma_{i+1} adds Σ_j C[i][j] · eps_{i-j}, where C[i][j] integrates dsigma along the Lagrange
basis polynomial of node j. "tab" integrates in VP time t (the VP schedule fitted to EDM's sigma range
0.002..80, as in the gits reference code) with a 10000-point Riemann sum; "rhoab" integrates in sigma exactly.
"""

from __future__ import annotations

import numpy as np
import torch


def edm2t(edm_steps: torch.Tensor, epsilon_s: float = 1e-3, sigma_min: float = 0.002, sigma_max: float = 80.0):
    """Map EDM sigmas to VP times t of the linear-beta VP SDE spanning [sigma_min, sigma_max].

    Returns (t_steps, beta_min, beta_max) as float32 tensors."""
    sigma_min_t, sigma_max_t = torch.tensor(sigma_min), torch.tensor(sigma_max)
    beta_d = 2 * (torch.log(sigma_min_t**2 + 1) / epsilon_s - torch.log(sigma_max_t**2 + 1)) / (epsilon_s - 1)
    beta_min = torch.log(sigma_max_t**2 + 1) - 0.5 * beta_d
    sigmas = edm_steps.detach().cpu().float()
    t_steps = ((beta_min**2 + 2 * beta_d * (sigmas**2 + 1).log()).sqrt() - beta_min) / beta_d
    return t_steps, beta_min, beta_d + beta_min


def _dsigma_dt(beta_0: torch.Tensor, beta_1: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """dsigma/dt of the VP schedule alpha(t) = exp(-t²(beta_1 - beta_0)/2 - t·beta_0), where sigma² = 1/alpha - 1."""
    alpha = torch.exp(-0.5 * taus**2 * (beta_1 - beta_0) - taus * beta_0)
    d_log_alpha = -taus * (beta_1 - beta_0) - beta_0
    return -0.5 * d_log_alpha / torch.sqrt(alpha * (1 - alpha))


def _lagrange_basis(nodes: torch.Tensor, j: int, taus: torch.Tensor) -> torch.Tensor:
    poly = torch.ones_like(taus)
    for k in range(nodes.shape[0]):
        if k != j:
            poly = poly * (taus - nodes[k]) / (nodes[j] - nodes[k])
    return poly


def get_deis_coeff_list(t_steps: torch.Tensor, max_order: int, N: int = 10000, deis_mode: str = "tab") -> list:
    """Per step i, the list of min(i + 1, max_order) coefficients (empty for first-order steps)."""
    if deis_mode == "tab":
        vp_steps, beta_0, beta_1 = edm2t(t_steps)
        coeffs = []
        for i, (t_cur, t_next) in enumerate(zip(vp_steps[:-1], vp_steps[1:], strict=True)):
            order = min(i + 1, max_order)
            if order == 1:
                coeffs.append([])
                continue
            taus = torch.linspace(t_cur, t_next, N)
            dtau = (t_next - t_cur) / N
            nodes = vp_steps[[i - k for k in range(order)]]
            integrand = _dsigma_dt(beta_0, beta_1, taus)
            coeffs.append([torch.sum(integrand * _lagrange_basis(nodes, j, taus)) * dtau for j in range(order)])
        return coeffs
    if deis_mode == "rhoab":
        sigmas = t_steps.detach().cpu().double().numpy()
        coeffs = []
        for i in range(len(sigmas) - 1):
            order = min(i + 1, max_order)
            if order == 1:
                coeffs.append([])
                continue
            nodes = [sigmas[i - k] for k in range(order)]
            row = []
            for j in range(order):
                basis = np.polynomial.Polynomial([1.0])
                for k, node in enumerate(nodes):
                    if k != j:
                        basis = basis * np.polynomial.Polynomial([-node, 1.0]) / (nodes[j] - node)
                integral = basis.integ()
                row.append(float(integral(sigmas[i + 1]) - integral(sigmas[i])))
            coeffs.append(row)
        return coeffs
    raise ValueError(f"unknown deis_mode {deis_mode!r}; expected 'tab' or 'rhoab'")


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "Kiln's DEIS computes its coefficients without these helpers"

cal_intergrand = unsupported_function(__name__, 'cal_intergrand', 'beta_0, beta_1, taus', _REASON)
cal_poly = unsupported_function(__name__, 'cal_poly', 'prev_t, j, taus', _REASON)
t2alpha_fn = unsupported_function(__name__, 't2alpha_fn', 'beta_0, beta_1, t', _REASON)
