"""Sigma tables and schedules against ComfyUI's numbers (fixtures/sigmas.json), incl. its quirks."""

import math

import pytest
import torch

import comfy.model_sampling
import comfy.samplers
from tests.unit.analytic_model import AnalyticDenoiser, Patcher, assert_schedule_close, fixture_mu, load_json

SIGMAS = load_json("sigmas.json")


def _patcher():
    return Patcher(AnalyticDenoiser(fixture_mu()))


def test_sd1_sigma_table_matches_comfyui_float32_table():
    ms = comfy.model_sampling.model_sampling("eps")
    reference = torch.tensor(SIGMAS["model_sampling"]["sigmas"])
    assert ms.sigmas.dtype == torch.float32 and ms.log_sigmas.dtype == torch.float32
    assert torch.allclose(ms.sigmas, reference, rtol=1e-6, atol=0)
    assert math.isclose(float(ms.sigma_min), SIGMAS["model_sampling"]["sigma_min"], rel_tol=1e-6)
    assert math.isclose(float(ms.sigma_max), SIGMAS["model_sampling"]["sigma_max"], rel_tol=1e-6)


def test_scheduler_names_are_comfyuis_in_order():
    assert comfy.samplers.SCHEDULER_NAMES == SIGMAS["scheduler_names"]


@pytest.mark.parametrize("scheduler", SIGMAS["scheduler_names"])
def test_ksampler_sigmas_match_every_steps_and_denoise(scheduler):
    patcher = _patcher()
    for steps, by_denoise in SIGMAS["schedules"][scheduler].items():
        for denoise, expected in by_denoise.items():
            got = comfy.samplers.KSampler(patcher, int(steps), "cpu", "euler", scheduler, float(denoise)).sigmas
            assert_schedule_close(got, expected, f"{scheduler} steps={steps} denoise={denoise}")


@pytest.mark.parametrize("scheduler", SIGMAS["scheduler_names"])
def test_discard_penultimate_samplers_drop_the_second_to_last_sigma(scheduler):
    patcher = _patcher()
    for steps, by_denoise in SIGMAS["schedules_discard_penultimate"][scheduler].items():
        for denoise, expected in by_denoise.items():
            for sampler in ("uni_pc", "uni_pc_bh2", "dpm_2", "dpm_2_ancestral"):
                got = comfy.samplers.KSampler(patcher, int(steps), "cpu", sampler, scheduler, float(denoise)).sigmas
                assert_schedule_close(got, expected, f"{sampler} {scheduler} steps={steps} denoise={denoise}")


def test_calculate_sigmas_matches_for_four_steps():
    ms = comfy.model_sampling.model_sampling("eps")
    for scheduler, expected in SIGMAS["calculate_sigmas_4"].items():
        assert_schedule_close(comfy.samplers.calculate_sigmas(ms, scheduler, 4), expected, scheduler)


def test_ddim_uniform_gives_32_sigmas_for_30_steps():
    ms = comfy.model_sampling.model_sampling("eps")
    assert len(comfy.samplers.calculate_sigmas(ms, "ddim_uniform", 30)) == 32


def test_kl_optimal_with_one_step_is_nan_then_zero():
    ms = comfy.model_sampling.model_sampling("eps")
    sigmas = comfy.samplers.calculate_sigmas(ms, "kl_optimal", 1)
    assert math.isnan(float(sigmas[0])) and float(sigmas[1]) == 0.0


def test_first_sigma_differs_by_scheduler_in_the_last_bits():
    ms = comfy.model_sampling.model_sampling("eps")
    first = {name: float(comfy.samplers.calculate_sigmas(ms, name, 10)[0]) for name in ("simple", "normal", "karras")}
    assert first["simple"] == float(ms.sigma_max)
    assert first["normal"] != first["simple"] and first["karras"] != first["simple"]


def test_denoise_zero_gives_an_empty_schedule_and_unknown_names_fall_back_to_the_first():
    patcher = _patcher()
    assert comfy.samplers.KSampler(patcher, 10, "cpu", "euler", "normal", 0.0).sigmas.numel() == 0
    fallback = comfy.samplers.KSampler(patcher, 4, "cpu", "no_such_sampler", "no_such_scheduler")
    assert fallback.sampler == "euler" and fallback.scheduler == "simple"


def test_calculate_sigmas_rejects_an_unknown_scheduler():
    with pytest.raises(ValueError, match="invalid scheduler"):
        comfy.samplers.calculate_sigmas(comfy.model_sampling.model_sampling("eps"), "nope", 4)


def test_timestep_and_sigma_are_inverse_on_the_table_and_interpolate_in_log_space():
    ms = comfy.model_sampling.model_sampling("eps")
    t = torch.tensor([0, 10, 500, 999])
    assert torch.equal(ms.timestep(ms.sigma(t)), t)
    half = ms.sigma(torch.tensor(10.5))
    assert math.isclose(float(half), math.sqrt(float(ms.sigmas[10]) * float(ms.sigmas[11])), rel_tol=1e-5)


def test_percent_to_sigma_maps_start_and_end_to_infinity_and_zero():
    ms = comfy.model_sampling.model_sampling("eps")
    assert ms.percent_to_sigma(0.0) == 999999999.9
    assert ms.percent_to_sigma(1.0) == 0.0
    assert math.isclose(ms.percent_to_sigma(0.5), float(ms.sigma(torch.tensor(499.5))), rel_tol=1e-6)


def test_zsnr_pins_the_last_sigma_to_almost_zero_snr():
    plain = comfy.model_sampling.model_sampling("eps")
    zsnr = comfy.model_sampling.model_sampling("eps", zsnr=True)
    assert float(zsnr.sigma_max) > 4000 and math.isclose(float(zsnr.sigma_min), float(plain.sigma_min), rel_tol=1e-3)


FLOW_SIGMAS = load_json("flow_sigmas.json")["samplings"]


def _flow_model_sampling(params):
    schedule_class = {"ModelSamplingFlux": comfy.model_sampling.ModelSamplingFlux,
                      "ModelSamplingDiscreteFlow": comfy.model_sampling.ModelSamplingDiscreteFlow}[params["classes"][0]]
    ms = comfy.model_sampling.model_sampling_class(comfy.model_sampling.CONST, schedule_class)()
    if schedule_class is comfy.model_sampling.ModelSamplingFlux:
        ms.set_parameters(shift=params["shift"])
    else:
        ms.set_parameters(shift=params["shift"], multiplier=params["multiplier"])
    return ms


@pytest.mark.parametrize("sampling", list(FLOW_SIGMAS))
def test_flow_model_schedules_match_comfyui(sampling):
    params = FLOW_SIGMAS[sampling]
    ms = _flow_model_sampling(params)
    assert len(ms.sigmas) == params["n_table"]
    assert math.isclose(float(ms.sigma_min), params["sigma_min"], rel_tol=1e-6)
    assert float(ms.sigma_max) == params["sigma_max"]
    assert float(ms.timestep(torch.tensor(0.5))) == params["timestep(sigma=0.5)"]
    sigma_quarter = float(ms.sigma(torch.tensor(0.25 * params["multiplier"])))
    assert math.isclose(sigma_quarter, params["sigma(timestep=0.25*multiplier)"], rel_tol=1e-6)
    model = AnalyticDenoiser(fixture_mu())
    model.model_sampling = ms
    patcher = Patcher(model)
    for scheduler, by_steps in params["schedules"].items():
        for steps, by_denoise in by_steps.items():
            for denoise, expected in by_denoise.items():
                got = comfy.samplers.KSampler(patcher, int(steps), "cpu", "euler", scheduler, float(denoise)).sigmas
                assert_schedule_close(got, expected, f"{sampling} {scheduler} steps={steps} denoise={denoise}")
