"""All 42 samplers at KSampler level (comfy.sample.sample) on the analytic denoiser, against ComfyUI's outputs
(fixtures/samplers.safetensors / .json), plus partial schedules, inpainting, callbacks and interrupts."""

import pytest
import torch
from safetensors.torch import load_file

import comfy.k_diffusion.sampling as k_sampling
import comfy.model_management
import comfy.sample
import comfy.samplers
from tests.unit.analytic_model import FIXTURES, AnalyticDenoiser, Patcher, fixture_mu, load_json

TENSORS = load_file(str(FIXTURES / "samplers.safetensors"))
RECORDS = load_json("samplers.json")


def _run(name, cfg, steps=10, scheduler="karras", latent=None, seed=42, **kwargs):
    """The fixture call: comfy.sample.sample(patcher, noise, 10, cfg, name, 'karras', ..., seed=42)."""
    model = AnalyticDenoiser(fixture_mu(), conditioned=cfg != 1.0)
    latent = torch.zeros(1, 4, 8, 8) if latent is None else latent
    noise = comfy.sample.prepare_noise(torch.zeros_like(latent), seed)
    if cfg == 1.0:
        positive, negative = [[torch.zeros(1, 77, 768), {}]], [[torch.zeros(1, 77, 768), {}]]
    else:
        positive, negative = [[torch.ones(1, 77, 768), {}]], [[-torch.ones(1, 77, 768), {}]]
    steps_seen = []
    out = comfy.sample.sample(Patcher(model), noise, steps, cfg, name, scheduler, positive, negative, latent,
                              seed=seed, callback=lambda i, x0, x, total: steps_seen.append((i, total)),
                              disable_pbar=True, **kwargs)
    return out, model.calls, steps_seen


def test_sampler_name_lists_are_comfyuis():
    assert len(comfy.samplers.KSAMPLER_NAMES) == 39
    assert comfy.samplers.SAMPLER_NAMES == comfy.samplers.KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"]
    assert comfy.samplers.SAMPLER_NAMES == list(RECORDS["samplers"])
    for name in comfy.samplers.KSAMPLER_NAMES:
        assert callable(getattr(k_sampling, f"sample_{name}")), name


@pytest.mark.parametrize("cfg", [1.0, 3.0])
@pytest.mark.parametrize("name", comfy.samplers.SAMPLER_NAMES)
def test_sampler_output_matches_comfyui_on_the_analytic_denoiser(name, cfg):
    out, calls, steps_seen = _run(name, cfg)
    reference = TENSORS[("out_" if cfg == 1.0 else "out_cfg3_") + name]
    record = RECORDS["samplers" if cfg == 1.0 else "samplers_cfg3"][name]
    tolerance = 1e-3 if name == "dpm_adaptive" else 1e-4
    assert out.device.type == "cpu" and out.dtype == torch.float32
    assert (out - reference).abs().max() / reference.abs().max() <= tolerance
    assert len(calls) == record["n_model_calls"]
    assert len(steps_seen) == record["n_callbacks"]
    for call, expected in zip(calls, record["model_calls"], strict=True):
        assert call["batch"] == expected["batch"]
        assert call["sigma"] == pytest.approx(expected["sigma"], rel=1e-5)
        if "cond_sign" in expected:
            assert call["sign"] == expected["cond_sign"]  # the negative runs first in the batch, as in ComfyUI


@pytest.mark.parametrize("name", ["dpm_2", "uni_pc", "euler"])
def test_sampler_is_given_the_fixture_sigmas(name):
    _, calls, _ = _run(name, 1.0)
    assert calls[0]["sigma"][0] == pytest.approx(float(TENSORS[f"sigmas_{name}"][0]), rel=1e-6)
    assert torch.allclose(TENSORS[f"sigmas_{name}"], torch.tensor(RECORDS["samplers"][name]["sigmas_used"]))


def test_callback_reports_step_and_total_steps():
    _, _, steps_seen = _run("euler", 1.0, steps=4)
    assert steps_seen == [(0, 4), (1, 4), (2, 4), (3, 4)]


def test_denoise_below_one_starts_from_the_latent_plus_noise_at_a_lower_sigma():
    latent = torch.full((1, 4, 8, 8), 2.0)
    out, calls, _ = _run("euler", 1.0, steps=4, scheduler="normal", latent=latent, denoise=0.6)
    expected_sigmas = load_json("sigmas.json")["schedules"]["normal"]["4"]["0.6"]
    assert [c["sigma"][0] for c in calls] == pytest.approx(expected_sigmas[:-1], rel=1e-5)
    noise = comfy.sample.prepare_noise(torch.zeros_like(latent), 42)
    start = latent * 0.18215 + noise * expected_sigmas[0]  # no max-denoise scaling below sigma_max
    assert torch.allclose(calls[0]["x"], start, atol=1e-5)
    assert out.shape == latent.shape


def test_last_step_truncates_and_leaves_noise_unless_forced_to_denoise():
    full = comfy.samplers.KSampler(Patcher(AnalyticDenoiser(fixture_mu())), 10, "cpu", "euler", "karras").sigmas
    _, calls, steps_seen = _run("euler", 1.0, last_step=4)
    assert len(calls) == 4 and [c["sigma"][0] for c in calls] == pytest.approx(full[:4].tolist())
    leftover, _, _ = _run("euler", 1.0, last_step=4)
    forced, _, _ = _run("euler", 1.0, last_step=4, force_full_denoise=True)
    mu_vae = fixture_mu() / 0.18215
    assert (leftover - mu_vae).abs().max() > 1.0  # still noisy at sigma[4]
    assert (forced - mu_vae).abs().max() < (leftover - mu_vae).abs().max()


def test_start_step_skips_the_first_steps_and_past_the_end_returns_the_latent():
    _, calls, _ = _run("euler", 1.0, start_step=7)
    assert len(calls) == 3
    latent = torch.full((1, 4, 8, 8), 0.5)
    out, calls, _ = _run("euler", 1.0, latent=latent, start_step=10)
    assert out is latent and calls == []


def test_inpaint_mask_keeps_the_unmasked_latent_and_samples_the_masked_part():
    latent = torch.full((1, 4, 8, 8), 3.0)
    mask = torch.zeros(1, 8, 8)
    mask[:, :, :4] = 1.0  # sample the left half
    out, _, _ = _run("euler", 1.0, latent=latent, noise_mask=mask)
    assert torch.allclose(out[..., 4:], latent[..., 4:], atol=1e-5)
    free, _, _ = _run("euler", 1.0, latent=latent)
    assert not torch.allclose(out[..., :4], latent[..., :4], atol=1e-2)
    assert (out[..., :4] - free[..., :4]).abs().max() < (latent[..., :4] - free[..., :4]).abs().max()


def test_interrupt_stops_sampling_at_the_next_model_call():
    model = AnalyticDenoiser(fixture_mu())
    latent = torch.zeros(1, 4, 8, 8)
    cond = [[torch.zeros(1, 77, 768), {}]]

    def interrupt_after_second_step(i, x0, x, total):
        if i == 1:
            comfy.model_management.interrupt_current_processing(True)

    with pytest.raises(comfy.model_management.InterruptProcessingException):
        comfy.sample.sample(Patcher(model), torch.randn(1, 4, 8, 8), 10, 1.0, "euler", "karras", cond, cond, latent,
                            callback=interrupt_after_second_step, disable_pbar=True, seed=1)
    assert len(model.calls) == 2
    assert not comfy.model_management.processing_interrupted()


def test_sample_custom_runs_an_explicit_sampler_and_sigmas():
    model = AnalyticDenoiser(fixture_mu())
    latent = torch.zeros(1, 4, 8, 8)
    noise = comfy.sample.prepare_noise(latent, 42)
    cond = [[torch.zeros(1, 77, 768), {}]]
    sigmas = TENSORS["sigmas_euler"].clone()
    out = comfy.sample.sample_custom(Patcher(model), noise, 1.0, comfy.samplers.sampler_object("euler"), sigmas,
                                     cond, cond, latent, disable_pbar=True, seed=42)
    assert torch.allclose(out, TENSORS["out_euler"], rtol=0, atol=1e-5)


def test_stochastic_samplers_use_the_seed_not_the_global_rng():
    first, _, _ = _run("euler_ancestral", 1.0, seed=3)
    torch.manual_seed(12345)
    second, _, _ = _run("euler_ancestral", 1.0, seed=3)
    other_seed, _, _ = _run("euler_ancestral", 1.0, seed=4)
    assert torch.equal(first, second) and not torch.equal(first, other_seed)


def test_samplers_run_on_a_v_prediction_model():
    model = AnalyticDenoiser(fixture_mu(), model_type="v_prediction")
    cond = [[torch.zeros(1, 77, 768), {}]]
    latent = torch.zeros(1, 4, 8, 8)
    out = comfy.sample.sample(Patcher(model), comfy.sample.prepare_noise(latent, 42), 10, 1.0, "dpmpp_2m", "karras",
                              cond, cond, latent, seed=42, disable_pbar=True)
    assert torch.allclose(out, TENSORS["out_dpmpp_2m"], atol=1e-5)  # same schedule, same denoiser → same result


class FlowPointMass(torch.nn.Module):
    """A rectified-flow (CONST) model whose data is the single point mu: the ideal denoiser is mu everywhere."""

    def __init__(self):
        super().__init__()
        import comfy.latent_formats
        import comfy.model_sampling

        self.model_sampling = comfy.model_sampling.model_sampling_class(
            comfy.model_sampling.CONST, comfy.model_sampling.ModelSamplingDiscreteFlow)()
        self.model_sampling.set_parameters(shift=3.0)
        self.latent_format = comfy.latent_formats.SD3()
        self.sigmas_seen = []

    def extra_conds(self, cond, options, noise):
        return {"c_crossattn": cond}

    def apply_model(self, x, sigma, **kwargs):
        self.sigmas_seen.append(float(sigma[0]))
        return fixture_mu().expand_as(x).clone()


# dpm_fast / dpm_adaptive stop at the last non-zero sigma, and uni_pc(_bh2) at sigma 0.001 (as in ComfyUI).
STOP_SHORT = {"dpm_fast", "dpm_adaptive", "uni_pc", "uni_pc_bh2"}


@pytest.mark.parametrize("name", [n for n in comfy.samplers.SAMPLER_NAMES if n not in STOP_SHORT])
def test_every_sampler_lands_on_the_data_of_a_point_mass_flow_model(name):
    model = FlowPointMass()
    latent = torch.zeros(1, 4, 8, 8)
    cond = [[torch.zeros(1, 77, 8), {}]]
    out = comfy.sample.sample(Patcher(model), comfy.sample.prepare_noise(latent, 42), 6, 1.0, name, "simple", cond,
                              cond, latent, seed=42, disable_pbar=True)
    expected = fixture_mu() / 1.5305 + 0.0609  # SD3 latent format: scale 1.5305, shift 0.0609
    assert torch.isfinite(out).all()
    assert (out - expected).abs().max() <= 1e-4 * expected.abs().max()
    assert max(model.sigmas_seen) <= 1.0


@pytest.mark.parametrize(("value", "expected_in"), [(0.0, 0.0), (1.0, (1.0 - 0.0609) * 1.5305)])
def test_only_a_non_empty_latent_is_shifted_into_model_space(value, expected_in):
    """As in ComfyUI (measured on its Playground 2.5 format, tests/e2e/test_reference_node_replays.py): an
    all-zero latent stays zero instead of becoming the shifted format's constant."""
    model = FlowPointMass()
    latent = torch.full((1, 4, 8, 8), value)
    cond = [[torch.zeros(1, 77, 8), {}]]
    seen = []
    model.apply_model = lambda x, sigma, **kwargs: seen.append((x.clone(), float(sigma[0]))) or x.clone()
    comfy.sample.sample(Patcher(model), torch.zeros(1, 4, 8, 8), 2, 1.0, "euler", "simple", cond, cond, latent,
                        denoise=0.5, seed=1, disable_pbar=True)
    x, sigma = seen[0]
    # CONST start: sigma·noise + (1 - sigma)·latent_in, with zero noise
    assert sigma < 1.0 and torch.allclose(x, torch.full_like(x, (1 - sigma) * expected_in))
