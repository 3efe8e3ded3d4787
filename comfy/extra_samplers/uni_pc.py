"""UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion
Models"), multistep, data prediction, with the B(h) = h ("bh1") or B(h) = e^h - 1 ("bh2") variants.

The solver runs in variance-preserving space: x_vp = x / sqrt(1 + sigma²), time = sigma (`SigmaConvert`).
As in ComfyUI the last sigma 0 is replaced by 0.001 (in the sigmas tensor itself) and the result is mapped back
to variance-exploding space at that sigma.
"""

from __future__ import annotations

import torch
from tqdm.auto import trange


class SigmaConvert:
    """VP quantities of a VE sigma: alpha = 1/sqrt(1 + sigma²), std = sigma·alpha, lambda = log(alpha / std)."""

    def marginal_log_mean_coeff(self, sigma):
        return 0.5 * torch.log(1 / ((sigma * sigma) + 1))

    def marginal_alpha(self, t):
        return torch.exp(self.marginal_log_mean_coeff(t))

    def marginal_std(self, t):
        return torch.sqrt(1.0 - torch.exp(2.0 * self.marginal_log_mean_coeff(t)))

    def marginal_lambda(self, t):
        log_mean_coeff = self.marginal_log_mean_coeff(t)
        log_std = 0.5 * torch.log(1.0 - torch.exp(2.0 * log_mean_coeff))
        return log_mean_coeff - log_std


def _expand(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.view(v.shape[:1] + (1,) * (x.ndim - 1)) if v.ndim else v


class UniPC:
    """Multistep UniPC in data-prediction form on a VP noise-prediction function `eps_fn(x_vp, sigma_vec)`."""

    def __init__(self, eps_fn, noise_schedule: SigmaConvert, variant: str = "bh1"):
        if variant not in ("bh1", "bh2"):
            raise ValueError(f"unknown UniPC variant {variant!r}; expected 'bh1' or 'bh2'")
        self.eps_fn = eps_fn
        self.ns = noise_schedule
        self.variant = variant

    def data_prediction(self, x, t):
        """x0 = (x - std·eps) / alpha."""
        eps = self.eps_fn(x, t)
        return (x - _expand(self.ns.marginal_std(t), x) * eps) / _expand(self.ns.marginal_alpha(t), x)

    def update(self, x, model_prev_list, t_prev_list, t, order, use_corrector=True):
        """One UniP step to `t` using the last `order` predictions, plus (optionally) the UniC correction, which
        costs one model evaluation at the new point and returns it for reuse."""
        ns = self.ns
        t_prev_0, model_prev_0 = t_prev_list[-1], model_prev_list[-1]
        lambda_prev_0, lambda_t = ns.marginal_lambda(t_prev_0), ns.marginal_lambda(t)
        sigma_prev_0, sigma_t = ns.marginal_std(t_prev_0), ns.marginal_std(t)
        alpha_t = torch.exp(ns.marginal_log_mean_coeff(t))
        h = lambda_t - lambda_prev_0

        rks, D1s = [], []
        for i in range(1, order):
            rk = ((ns.marginal_lambda(t_prev_list[-(i + 1)]) - lambda_prev_0) / h)[0]
            rks.append(rk)
            D1s.append((model_prev_list[-(i + 1)] - model_prev_0) / rk)
        rks.append(1.0)
        rks = torch.tensor(rks, device=x.device)

        hh = -h[0]
        h_phi_1 = torch.expm1(hh)  # h·phi_1(h) = e^h - 1
        h_phi_k = h_phi_1 / hh - 1
        B_h = hh if self.variant == "bh1" else torch.expm1(hh)
        R, b = [], []
        factorial_i = 1
        for i in range(1, order + 1):
            R.append(torch.pow(rks, i - 1))
            b.append(h_phi_k * factorial_i / B_h)
            factorial_i *= i + 1
            h_phi_k = h_phi_k / hh - 1 / factorial_i
        R = torch.stack(R)
        b = torch.tensor(b, device=x.device)

        D1s = torch.stack(D1s, dim=1) if D1s else None
        x_t_ = _expand(sigma_t / sigma_prev_0, x) * x - _expand(alpha_t * h_phi_1, x) * model_prev_0
        # Predictor (UniP); order 2 uses rho = 1/2
        if D1s is not None:
            rhos_p = torch.tensor([0.5], device=x.device) if order == 2 else torch.linalg.solve(R[:-1, :-1], b[:-1])
            pred_res = torch.einsum("k,bk...->b...", rhos_p, D1s)
        else:
            pred_res = 0
        x_t = x_t_ - _expand(alpha_t * B_h, x) * pred_res
        model_t = None
        if use_corrector:
            # Corrector (UniC); order 1 uses rho = 1/2
            rhos_c = torch.tensor([0.5], device=x.device) if order == 1 else torch.linalg.solve(R, b)
            model_t = self.data_prediction(x_t, t)
            corr_res = torch.einsum("k,bk...->b...", rhos_c[:-1], D1s) if D1s is not None else 0
            x_t = x_t_ - _expand(alpha_t * B_h, x) * (corr_res + rhos_c[-1] * (model_t - model_prev_0))
        return x_t, model_t

    def sample(self, x, timesteps, order=3, lower_order_final=True, callback=None, disable_pbar=False):
        """Multistep sampling over `timesteps` (sigmas, descending): warm-up at increasing order, then `order`,
        lowering the order over the final steps; the corrector runs on every step but the last."""
        steps = len(timesteps) - 1
        if steps < order:
            raise ValueError(f"UniPC needs at least {order} steps, got {steps}")
        batch = x.shape[0]
        for step_index in trange(steps, disable=disable_pbar):
            if step_index == 0:
                vec_t = timesteps[0].expand(batch)
                model_prev_list, t_prev_list = [self.data_prediction(x, vec_t)], [vec_t]
            elif step_index < order:
                vec_t = timesteps[step_index].expand(batch)
                x, model_x = self.update(x, model_prev_list, t_prev_list, vec_t, step_index, use_corrector=True)
                if model_x is None:
                    model_x = self.data_prediction(x, vec_t)
                model_prev_list.append(model_x)
                t_prev_list.append(vec_t)
            else:
                last = step_index + (2 if step_index == steps - 1 else 1)
                for step in range(step_index, last):
                    vec_t = timesteps[step].expand(batch)
                    step_order = min(order, steps + 1 - step) if lower_order_final else order
                    x, model_x = self.update(x, model_prev_list, t_prev_list, vec_t, step_order,
                                             use_corrector=step != steps)
                    t_prev_list = t_prev_list[1:] + [vec_t]
                    model_prev_list = model_prev_list[1:] + [model_prev_list[-1]]
                    if step < steps:
                        if model_x is None:
                            model_x = self.data_prediction(x, vec_t)
                        model_prev_list[-1] = model_x
            if callback is not None:
                callback({"x": x, "i": step_index, "denoised": model_prev_list[-1]})
        return x


def sample_unipc(model, noise, sigmas, extra_args=None, callback=None, disable=False, variant="bh1"):
    """UniPC on a k-diffusion denoiser `model(x, sigma)`; `noise` is the starting x at sigmas[0]."""
    extra_args = {} if extra_args is None else extra_args
    timesteps = sigmas
    if sigmas[-1] == 0:
        timesteps[-1] = 0.001  # ComfyUI writes into the sigmas it was given
    else:
        timesteps = sigmas.clone()
    ns = SigmaConvert()
    x = noise / torch.sqrt(1.0 + timesteps[0] ** 2.0)

    def eps_fn(x_vp, sigma):
        sigma_b = _expand(sigma, x_vp)
        x_ve = x_vp * ((sigma_b**2 + 1.0) ** 0.5)
        return (x_ve - model(x_ve, sigma, **extra_args)) / sigma_b

    solver = UniPC(eps_fn, ns, variant=variant)
    order = min(3, len(timesteps) - 2)
    x = solver.sample(x, timesteps, order=order, lower_order_final=True, callback=callback, disable_pbar=disable)
    return x / ns.marginal_alpha(timesteps[-1])


def sample_unipc_bh2(model, noise, sigmas, extra_args=None, callback=None, disable=False):
    """UniPC with B(h) = e^h - 1."""
    return sample_unipc(model, noise, sigmas, extra_args, callback, disable, variant="bh2")


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln's UniPC is written around an eps function, without these helpers"

NoiseScheduleVP = unsupported_class(__name__, 'NoiseScheduleVP', 'schedule=, betas=, alphas_cumprod=, continuous_beta_0=, continuous_beta_1=', _REASON)
expand_dims = unsupported_function(__name__, 'expand_dims', 'v, dims', _REASON)
interpolate_fn = unsupported_function(__name__, 'interpolate_fn', 'x, xp, yp', _REASON)
model_wrapper = unsupported_function(__name__, 'model_wrapper', 'model, noise_schedule, model_type=, model_kwargs=, guidance_type=, condition=, unconditional_condition=, guidance_scale=, classifier_fn=, classifier_kwargs=', _REASON)
predict_eps_sigma = unsupported_function(__name__, 'predict_eps_sigma', 'model, input, sigma_in, **kwargs', _REASON)
