"""The patch, guider and sampler nodes of issue 18 on small tensors: what each node hands the sampler, the
helpers' defining properties, and the clear error for the one option Kiln lacks. Their numbers on a real model
are compared with ComfyUI's in tests/e2e/test_reference_node_replays.py."""

from __future__ import annotations

import types

import pytest
import torch

import comfy.model_sampling
from comfy.k_diffusion import sampling as k_sampling
from comfy_extras import nodes_advanced_samplers, nodes_apg, nodes_fresca, nodes_model_advanced, nodes_tcfg
from comfy_extras.nodes_cfg import optimized_scale
from comfy_extras.nodes_perpneg import perp_neg


def test_euler_cfgpp_versions_pick_their_sampler_functions():
    regular = nodes_advanced_samplers.SamplerEulerCFGpp.execute("regular").result[0]
    alternative = nodes_advanced_samplers.SamplerEulerCFGpp.execute("alternative").result[0]
    assert regular.sampler_function is k_sampling.sample_euler_cfg_pp
    assert alternative.sampler_function is nodes_advanced_samplers.sample_euler_pp


@pytest.mark.parametrize(("scale_steps", "expected"), [(-1, None), (0, 0), (3, 3)])
def test_lcm_upscale_node_hands_its_options_to_the_sampler(scale_steps, expected):
    sampler = nodes_advanced_samplers.SamplerLCMUpscale.execute(1.5, scale_steps, "bilinear").result[0]
    assert sampler.sampler_function is nodes_advanced_samplers.sample_lcm_upscale
    assert sampler.extra_options == {"total_upscale": 1.5, "upscale_steps": expected, "upscale_method": "bilinear"}


def test_lcm_upscale_grows_the_latent_over_its_first_steps():
    sigmas = torch.tensor([3.0, 2.0, 1.0, 0.5, 0.0])
    sizes = []

    def denoiser(x, sigma, **_):
        sizes.append(tuple(x.shape[-2:]))
        return x * 0.5

    torch.manual_seed(0)
    out = nodes_advanced_samplers.sample_lcm_upscale(denoiser, torch.ones(1, 4, 8, 8), sigmas, total_upscale=2.0,
                                                     upscale_method="nearest-exact", disable=True)
    assert sizes == [(8, 8), (12, 12), (16, 16), (16, 16)]  # 4 steps: 2 resizing steps to 1.5x, then 2x
    assert out.shape == (1, 4, 16, 16)


def test_continuous_edm_cosmos_rflow_is_refused_with_a_clear_message():
    model = types.SimpleNamespace(model=types.SimpleNamespace(model_config=None))
    with pytest.raises(ValueError, match="cosmos_rflow"):
        nodes_model_advanced.ModelSamplingContinuousEDM().patch(model, "cosmos_rflow", 80.0, 0.002)


def test_continuous_schedules_map_sigma_to_timestep_and_back():
    edm = comfy.model_sampling.ModelSamplingContinuousEDM()
    edm.set_parameters(0.002, 80.0, 0.5)
    v = comfy.model_sampling.ModelSamplingContinuousV()
    v.set_parameters(0.03, 500.0, 1.0)
    sigma = torch.tensor([0.1, 1.0, 14.6])
    for schedule in (edm, v):
        torch.testing.assert_close(schedule.sigma(schedule.timestep(sigma)), sigma)
    assert edm.sigma_max.item() == pytest.approx(80.0, rel=1e-5) and v.sigma_min.item() == pytest.approx(0.03)
    assert edm.percent_to_sigma(0.0) > 1e8 and edm.percent_to_sigma(1.0) == 0.0
    assert edm.percent_to_sigma(0.5) == pytest.approx((0.002 * 80.0) ** 0.5, rel=1e-5)


def test_fourier_filter_with_unit_scales_is_the_identity():
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(nodes_fresca.Fourier_filter(x, 1.0, 1.0, 2), x, atol=1e-5, rtol=1e-5)


def test_apg_projection_splits_a_vector_into_parallel_and_orthogonal_parts():
    v0, v1 = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    parallel, orthogonal = nodes_apg.project(v0, v1)
    torch.testing.assert_close(parallel + orthogonal, v0)
    assert (orthogonal * v1).sum(dim=[1, 2, 3]).abs().max() < 1e-3


def test_tangential_damping_keeps_an_unconditional_score_parallel_to_the_conditional_one():
    cond = torch.randn(1, 4, 8, 8)
    torch.testing.assert_close(nodes_tcfg.score_tangential_damping(cond, 2 * cond), 2 * cond)


def test_optimized_scale_recovers_the_factor_between_proportional_predictions():
    negative = torch.randn(3, 4, 8, 8)
    scale = optimized_scale(negative * torch.tensor([0.5, 1.0, 2.0]).view(3, 1, 1, 1), negative)
    torch.testing.assert_close(scale.flatten(), torch.tensor([0.5, 1.0, 2.0]))


def test_perp_neg_ignores_the_part_of_the_negative_along_the_positive():
    empty, positive = torch.zeros(1, 4, 8, 8), torch.randn(1, 4, 8, 8)
    along = perp_neg(None, positive, empty + 0.3 * positive, empty, neg_scale=1.0, cond_scale=5.0)
    torch.testing.assert_close(along, 5.0 * positive)
