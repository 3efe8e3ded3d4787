"""Parameterisations (EPS, V_PREDICTION, ...) and latent formats."""

import torch

import comfy.latent_formats
import comfy.model_sampling


def test_eps_scales_input_to_unit_variance_and_denoises_as_x_minus_sigma_eps():
    ms = comfy.model_sampling.model_sampling("eps")
    x = torch.full((2, 4, 2, 2), 3.0)
    sigma = torch.tensor([1.0, 2.0])
    scaled = ms.calculate_input(sigma, x)
    assert torch.allclose(scaled[1], torch.full((4, 2, 2), 3.0 / 5**0.5))
    eps = torch.ones_like(x)
    assert torch.allclose(ms.calculate_denoised(sigma, eps, x)[1], torch.full((4, 2, 2), 1.0))


def test_eps_noise_scaling_uses_sqrt_one_plus_sigma_squared_at_max_denoise():
    ms = comfy.model_sampling.model_sampling("eps")
    noise, latent = torch.ones(1, 4, 2, 2), torch.full((1, 4, 2, 2), 0.5)
    sigma = torch.tensor(2.0)
    assert torch.allclose(ms.noise_scaling(sigma, noise, latent), torch.full_like(noise, 2.5))
    assert torch.allclose(ms.noise_scaling(sigma, noise, latent, max_denoise=True), torch.full_like(noise, 5**0.5 + 0.5))
    assert ms.inverse_noise_scaling(sigma, latent) is latent


def test_v_prediction_recovers_x0_from_an_exact_v():
    ms = comfy.model_sampling.model_sampling("v_prediction")
    x0, eps = torch.randn(1, 4, 2, 2), torch.randn(1, 4, 2, 2)
    sigma = torch.tensor([1.7])
    alpha_vp, sigma_vp = 1 / (1 + 1.7**2) ** 0.5, 1.7 / (1 + 1.7**2) ** 0.5
    v = alpha_vp * eps - sigma_vp * x0
    x = x0 + 1.7 * eps  # variance-exploding noisy input
    assert torch.allclose(ms.calculate_denoised(sigma, v, x), x0, atol=1e-5)


def test_model_sampling_accepts_names_enums_and_classes():
    class ModelType:
        name = "V_PREDICTION"

    assert isinstance(comfy.model_sampling.model_sampling(ModelType()), comfy.model_sampling.V_PREDICTION)
    assert isinstance(comfy.model_sampling.model_sampling(comfy.model_sampling.EPS), comfy.model_sampling.EPS)
    both = comfy.model_sampling.model_sampling("eps")
    assert isinstance(both, comfy.model_sampling.ModelSamplingDiscrete) and isinstance(both, torch.nn.Module)


def test_latent_formats_scale_in_and_out():
    latent = torch.randn(1, 4, 8, 8)
    sd15, sdxl = comfy.latent_formats.SD15(), comfy.latent_formats.SDXL()
    assert torch.equal(sd15.process_in(latent), latent * 0.18215)
    assert torch.allclose(sd15.process_out(sd15.process_in(latent)), latent)
    assert sdxl.scale_factor == 0.13025 and sd15.latent_channels == 4
    assert len(sd15.latent_rgb_factors) == 4 and len(sdxl.latent_rgb_factors_bias) == 3
    flux = comfy.latent_formats.Flux()
    assert torch.allclose(flux.process_out(flux.process_in(latent)), latent, atol=1e-6)
