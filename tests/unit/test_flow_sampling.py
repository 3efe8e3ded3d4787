"""Rectified-flow sampling (SD3, Flux) against ComfyUI's numbers (fixtures/flow_sigmas.json), and the flow nodes:
ModelSamplingSD3, ModelSamplingFlux, EmptySD3LatentImage, FluxGuidance, ConditioningZeroOut and the SD3 / Flux
text encoders' token routing."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import torch

import comfy.latent_formats
import comfy.model_patcher
import comfy.model_sampling
import comfy.samplers
import nodes
from comfy_execution import node_loading
from comfy_extras.nodes_flux import CLIPTextEncodeFlux, FluxGuidance
from comfy_extras.nodes_model_advanced import (
    ModelSamplingAuraFlow,
    ModelSamplingFlux,
    ModelSamplingSD3,
    flux_resolution_shift,
)
from comfy_extras.nodes_sd3 import CLIPTextEncodeSD3, EmptySD3LatentImage, TripleCLIPLoader
from tests.unit.analytic_model import assert_schedule_close, fixture_mu, load_json

FLOW_SIGMAS = load_json("flow_sigmas.json")["samplings"]
RTOL = 1e-5

# What ComfyUI's supported-model configs put in `sampling_settings` for each default sampling.
DEFAULT_SETTINGS = {
    "flux_dev_default": (comfy.model_sampling.ModelSamplingFlux, {}),
    "flux_schnell_default": (comfy.model_sampling.ModelSamplingDiscreteFlow, {"multiplier": 1.0, "shift": 1.0}),
    "sd3_default": (comfy.model_sampling.ModelSamplingDiscreteFlow, {"shift": 3.0}),
}


class TinyFlowModel(torch.nn.Module):
    """A flow model whose data is the single point `fixture_mu()` repeated to 16 channels: its network predicts the
    ideal velocity `(x - mu) / sigma`, which `apply_model` turns into the denoised estimate through its (possibly
    patched) model_sampling, as a diffusion model does. Records the sigmas it is called at."""

    def __init__(self, schedule: type = comfy.model_sampling.ModelSamplingDiscreteFlow,
                 sampling_settings: dict | None = None):
        super().__init__()
        self.model_config = SimpleNamespace(sampling_settings=sampling_settings or {"shift": 3.0})
        self.model_sampling = comfy.model_sampling.model_sampling_class(comfy.model_sampling.CONST, schedule)(
            self.model_config)
        self.latent_format = comfy.latent_formats.SD3()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.mu = fixture_mu().repeat(1, 4, 1, 1)
        self.sigmas_seen: list[float] = []

    def extra_conds(self, cond: torch.Tensor, options: dict, noise: torch.Tensor) -> dict:
        return {"c_crossattn": cond}

    def apply_model(self, x, sigma, **kwargs):
        self.sigmas_seen.append(float(sigma[0]))
        velocity = (x - self.mu) / sigma.view(-1, 1, 1, 1)
        return self.model_sampling.calculate_denoised(sigma, velocity, x)


def patcher_of(model: torch.nn.Module) -> comfy.model_patcher.ModelPatcher:
    return comfy.model_patcher.ModelPatcher(model, torch.device("cpu"), torch.device("cpu"))


def flow_sampling(name: str):
    """The sampling object behind a flow_sigmas.json entry, built as ComfyUI builds it: a model's default
    from its config, or the ModelSamplingSD3 / ModelSamplingFlux node applied to a model."""
    if name in DEFAULT_SETTINGS:
        schedule, settings = DEFAULT_SETTINGS[name]
        config = SimpleNamespace(sampling_settings=settings)
        return comfy.model_sampling.model_sampling_class(comfy.model_sampling.CONST, schedule)(config)
    model = patcher_of(TinyFlowModel())
    if match := re.fullmatch(r"ModelSamplingSD3_shift([\d.]+)", name):
        patched = ModelSamplingSD3().patch(model, float(match[1]))[0]
    else:
        match = re.fullmatch(r"ModelSamplingFlux_max([\d.]+)_base([\d.]+)_(\d+)x(\d+)", name)
        max_shift, base_shift, width, height = float(match[1]), float(match[2]), int(match[3]), int(match[4])
        patched = ModelSamplingFlux().patch(model, max_shift, base_shift, width, height)[0]
    return patched.get_model_object("model_sampling")


def schedule_cases(name: str):
    for scheduler, by_steps in FLOW_SIGMAS[name]["schedules"].items():
        for steps, by_denoise in by_steps.items():
            for denoise, expected in by_denoise.items():
                yield scheduler, int(steps), float(denoise), expected


# ---------------------------------------------------------------------------------------------- schedules


@pytest.mark.parametrize("name", list(FLOW_SIGMAS))
def test_flow_sampling_tables_match_comfyui(name):
    params = FLOW_SIGMAS[name]
    sampling = flow_sampling(name)
    schedule = {"ModelSamplingFlux": comfy.model_sampling.ModelSamplingFlux,
                "ModelSamplingDiscreteFlow": comfy.model_sampling.ModelSamplingDiscreteFlow}[params["classes"][0]]
    assert isinstance(sampling, schedule) and isinstance(sampling, comfy.model_sampling.CONST)
    assert sampling.shift == params["shift"]
    assert getattr(sampling, "multiplier", 1.0) == params["multiplier"]
    assert len(sampling.sigmas) == params["n_table"]
    assert float(sampling.sigma_min) == pytest.approx(params["sigma_min"], rel=1e-6)
    assert float(sampling.sigma_max) == params["sigma_max"]
    assert float(sampling.timestep(torch.tensor(0.5))) == params["timestep(sigma=0.5)"]
    quarter = float(sampling.sigma(torch.tensor(0.25 * params["multiplier"])))
    assert quarter == pytest.approx(params["sigma(timestep=0.25*multiplier)"], rel=1e-6)


@pytest.mark.parametrize("name", list(FLOW_SIGMAS))
def test_every_flow_schedule_matches_comfyui(name):
    sampling = flow_sampling(name)
    checked = 0
    for scheduler, steps, denoise, expected in schedule_cases(name):
        if denoise < 1.0:  # KSampler's rule: the tail of the longer schedule
            got = comfy.samplers.calculate_sigmas(sampling, scheduler, int(steps / denoise))[-(steps + 1):]
        else:
            got = comfy.samplers.calculate_sigmas(sampling, scheduler, steps)
        assert_schedule_close(got, expected, f"{name} {scheduler} steps={steps} denoise={denoise}")
        checked += 1
    assert checked == 9 * 6 * 2


def test_ksampler_takes_its_sigmas_from_the_patched_sampling_and_the_original_keeps_its_own():
    model = patcher_of(TinyFlowModel())
    patched = ModelSamplingSD3().patch(model, 6.0)[0]
    expected = FLOW_SIGMAS["ModelSamplingSD3_shift6.0"]["schedules"]["simple"]["4"]["1.0"]
    assert_schedule_close(comfy.samplers.KSampler(patched, 4, "cpu", "euler", "simple", 1.0).sigmas, expected,
                          "patched")
    default = FLOW_SIGMAS["sd3_default"]["schedules"]["simple"]["4"]["1.0"]
    assert_schedule_close(comfy.samplers.KSampler(model, 4, "cpu", "euler", "simple", 1.0).sigmas, default,
                          "original")


def test_model_sampling_aura_flow_is_sd3s_schedule_with_timesteps_in_0_to_1():
    """ComfyUI's ModelSamplingAuraFlow: the sigmas of ModelSamplingSD3 at the same shift, the model called with
    t = sigma (multiplier 1) instead of 1000 * sigma."""
    model = patcher_of(TinyFlowModel())
    aura = ModelSamplingAuraFlow().patch_aura(model, 6.0)[0]
    expected = FLOW_SIGMAS["ModelSamplingSD3_shift6.0"]["schedules"]["simple"]["4"]["1.0"]
    assert_schedule_close(comfy.samplers.KSampler(aura, 4, "cpu", "euler", "simple", 1.0).sigmas, expected, "aura")
    sigma = torch.tensor([0.25, 0.75])
    aura_sampling = aura.get_model_object("model_sampling")
    sd3_sampling = ModelSamplingSD3().patch(model, 6.0)[0].get_model_object("model_sampling")
    assert torch.allclose(aura_sampling.timestep(sigma), sigma)
    assert torch.allclose(sd3_sampling.timestep(sigma), sigma * 1000)


def test_the_ksampler_node_runs_a_patched_flow_model_on_the_patched_schedule_and_lands_on_the_data():
    model = TinyFlowModel()
    original = patcher_of(model)
    patched = ModelSamplingSD3().patch(original, 6.0)[0]
    latent = EmptySD3LatentImage().generate(64, 64, 1)[0]
    cond = [[torch.zeros(1, 77, 8), {}]]

    def sample(patcher):
        model.sigmas_seen.clear()
        with torch.inference_mode():
            return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(patcher, 7, 4, 1.0, "euler", "simple", cond, cond,
                                                                  latent)[0]["samples"]

    out = sample(patched)
    schedules = {name: FLOW_SIGMAS[name]["schedules"]["simple"]["4"]["1.0"][:-1]
                 for name in ("ModelSamplingSD3_shift6.0", "sd3_default")}
    assert model.sigmas_seen == pytest.approx(schedules["ModelSamplingSD3_shift6.0"], rel=RTOL)
    data = model.mu / 1.5305 + 0.0609  # back to VAE space through SD3's latent format
    assert out.shape == (1, 16, 8, 8) and torch.allclose(out, data, atol=1e-5)
    sample(original)
    assert model.sigmas_seen == pytest.approx(schedules["sd3_default"], rel=RTOL)


# ---------------------------------------------------------------------------------------------- Flux shift


def test_flux_shift_is_linear_in_image_tokens_and_extrapolates_below_base():
    assert flux_resolution_shift(1.15, 0.5, 1024, 1024) == 1.15  # 4096 tokens: max_shift, Flux dev's default
    assert flux_resolution_shift(1.15, 0.5, 256, 256) == pytest.approx(0.5)  # 256 tokens: base_shift
    assert flux_resolution_shift(1.15, 0.5, 64, 64) == 0.459375  # 16 tokens: below base
    model = patcher_of(TinyFlowModel(comfy.model_sampling.ModelSamplingFlux, {}))
    sampling = ModelSamplingFlux().patch(model, 1.15, 0.5, 64, 64)[0].get_model_object("model_sampling")
    assert sampling.shift == 0.459375 and len(sampling.sigmas) == 10000


# ---------------------------------------------------------------------------------------------- CONST


def test_const_denoised_is_input_minus_sigma_times_velocity_per_sample():
    sampling = flow_sampling("sd3_default")
    x0, noise = torch.randn(2, 16, 4, 4), torch.randn(2, 16, 4, 4)
    sigma = torch.tensor([0.25, 0.9])
    x = (1 - sigma.view(2, 1, 1, 1)) * x0 + sigma.view(2, 1, 1, 1) * noise
    velocity = noise - x0
    denoised = sampling.calculate_denoised(sigma, velocity, x)
    assert torch.equal(denoised, x - velocity * sigma.view(2, 1, 1, 1))
    torch.testing.assert_close(denoised, x0)
    assert sampling.calculate_input(sigma, x) is x


def test_const_noise_scaling_interpolates_and_inverse_divides_by_one_minus_sigma():
    sampling = flow_sampling("flux_dev_default")
    noise, latent = torch.randn(2, 16, 4, 4), torch.randn(2, 16, 4, 4)
    start = sampling.noise_scaling(torch.tensor(0.75), noise, latent)
    assert torch.equal(start, 0.75 * noise + 0.25 * latent)
    assert torch.equal(sampling.noise_scaling(torch.tensor(1.0), noise, latent, max_denoise=True), noise)
    per_sample = sampling.noise_scaling(torch.tensor([1.0, 0.5]), noise, latent)
    assert torch.equal(per_sample[0], noise[0]) and torch.equal(per_sample[1], 0.5 * noise[1] + 0.5 * latent[1])
    assert torch.equal(sampling.inverse_noise_scaling(torch.tensor(0.0), latent), latent)
    torch.testing.assert_close(sampling.inverse_noise_scaling(torch.tensor(0.2), latent), latent / 0.8)


# ---------------------------------------------------------------------------------------------- latent formats


@pytest.mark.parametrize("name, scale, shift", [("SD3", 1.5305, 0.0609), ("Flux", 0.3611, 0.1159)])
def test_sixteen_channel_latent_formats_shift_scale_and_preview(name, scale, shift):
    latent_format = getattr(comfy.latent_formats, name)()
    assert latent_format.latent_channels == 16
    assert (latent_format.scale_factor, latent_format.shift_factor) == (scale, shift)
    zeros = torch.zeros(1, 16, 2, 2)
    assert torch.allclose(latent_format.process_in(zeros), torch.full_like(zeros, -shift * scale))
    latent = torch.randn(1, 16, 2, 2)
    torch.testing.assert_close(latent_format.process_out(latent_format.process_in(latent)), latent)
    factors = torch.tensor(latent_format.latent_rgb_factors)
    assert factors.shape == (16, 3) and len(latent_format.latent_rgb_factors_bias) == 3


def test_sd3_and_flux_have_their_own_preview_factors():
    sd3, flux = comfy.latent_formats.SD3(), comfy.latent_formats.Flux()
    assert sd3.latent_rgb_factors[0] == [-0.0922, -0.0175, 0.0749]
    assert flux.latent_rgb_factors[0] == [-0.0346, 0.0244, 0.0681]
    assert sd3.latent_rgb_factors_bias == [0.2394, 0.2135, 0.1925]
    assert flux.latent_rgb_factors_bias == [-0.0329, -0.0718, -0.0851]


# ---------------------------------------------------------------------------------------------- node specs


def without_tooltips(spec: dict) -> dict:
    """INPUT_TYPES()["required"] with Kiln's tooltips dropped (ComfyUI's nodes have none here)."""
    result = {}
    for name, entry in spec.items():
        if len(entry) > 1:
            options = {key: value for key, value in entry[1].items() if key != "tooltip"}
            entry = (entry[0], options) if options else (entry[0],)
        result[name] = entry
    return result


COMFYUI_SPECS = {
    ModelSamplingSD3: ("advanced/model", "patch", ("MODEL",), {
        "model": ("MODEL",),
        "shift": ("FLOAT", {"default": 3.0, "min": 0.0, "max": 100.0, "step": 0.01}),
    }),
    ModelSamplingFlux: ("advanced/model", "patch", ("MODEL",), {
        "model": ("MODEL",),
        "max_shift": ("FLOAT", {"default": 1.15, "min": 0.0, "max": 100.0, "step": 0.01}),
        "base_shift": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 100.0, "step": 0.01}),
        "width": ("INT", {"default": 1024, "min": 16, "max": nodes.MAX_RESOLUTION, "step": 8}),
        "height": ("INT", {"default": 1024, "min": 16, "max": nodes.MAX_RESOLUTION, "step": 8}),
    }),
}


@pytest.mark.parametrize("node", list(COMFYUI_SPECS), ids=lambda node: node.__name__)
def test_node_inputs_match_comfyuis(node):
    category, function, return_types, required = COMFYUI_SPECS[node]
    spec = node.INPUT_TYPES()
    assert set(spec) == {"required"}
    assert without_tooltips(spec["required"]) == required
    assert list(spec["required"]) == list(required)  # the order the frontend lays the widgets out in
    assert (node.CATEGORY, node.FUNCTION, node.RETURN_TYPES) == (category, function, return_types)
    assert callable(getattr(node(), function))


# The V3 flow nodes (their /object_info is tests/unit/test_v3_extras.py's) keep ComfyUI's classic method names.
LEGACY_METHODS = {EmptySD3LatentImage: "generate", FluxGuidance: "append", CLIPTextEncodeFlux: "encode",
                  CLIPTextEncodeSD3: "encode", TripleCLIPLoader: "load_clip"}


@pytest.mark.parametrize("node", list(LEGACY_METHODS), ids=lambda node: node.__name__)
def test_v3_flow_nodes_answer_to_comfyuis_classic_method_names(node):
    assert getattr(node, LEGACY_METHODS[node]).__func__ is node.execute.__func__


def test_the_flow_nodes_are_registered_by_their_extras_modules():
    import comfy_extras.nodes_flux
    import comfy_extras.nodes_model_advanced
    import comfy_extras.nodes_sd3

    assert {"ModelSamplingSD3", "ModelSamplingFlux"} <= set(comfy_extras.nodes_model_advanced.NODE_CLASS_MAPPINGS)
    assert set(node_loading.module_node_classes(comfy_extras.nodes_flux)) == {
        "CLIPTextEncodeFlux", "FluxDisableGuidance", "FluxGuidance", "FluxKontextImageScale",
        "FluxKontextMultiReferenceLatentMethod"}
    assert set(node_loading.module_node_classes(comfy_extras.nodes_sd3)) == {
        "TripleCLIPLoader", "EmptySD3LatentImage", "CLIPTextEncodeSD3", "ControlNetApplySD3", "SkipLayerGuidanceSD3"}


# ---------------------------------------------------------------------------------------------- latent & conditioning nodes


@pytest.mark.parametrize("width, height, batch, shape", [(64, 64, 1, (1, 16, 8, 8)), (1024, 768, 2, (2, 16, 96, 128)),
                                                         (1000, 1000, 1, (1, 16, 125, 125))])
def test_empty_sd3_latent_is_sixteen_channel_zeros_at_an_eighth_of_the_size(width, height, batch, shape):
    (latent,) = EmptySD3LatentImage().generate(width, height, batch)
    assert set(latent) == {"samples"}
    assert latent["samples"].shape == shape and latent["samples"].dtype == torch.float32
    assert not latent["samples"].any()


def flux_like_conditioning() -> list:
    """Two entries as a Flux text encoder gives them: T5 tokens [1, 256, 4096] with CLIP-L's pooled [1, 768]."""
    return [[torch.randn(1, 256, 4096), {"pooled_output": torch.randn(1, 768)}],
            [torch.randn(1, 256, 4096), {"pooled_output": torch.randn(1, 768), "strength": 0.5}]]


def test_flux_guidance_sets_guidance_on_every_entry_and_leaves_the_input_alone():
    conditioning = flux_like_conditioning()
    (guided,) = FluxGuidance().append(conditioning, 2.5)
    assert [options["guidance"] for _, options in guided] == [2.5, 2.5]
    assert guided[1][1]["strength"] == 0.5
    for (tensor, options), (original, original_options) in zip(guided, conditioning, strict=True):
        assert tensor is original and options["pooled_output"] is original_options["pooled_output"]
        assert "guidance" not in original_options
    (again,) = FluxGuidance().append(guided, 4.0)
    assert [options["guidance"] for _, options in again] == [4.0, 4.0]


def test_conditioning_zero_out_zeroes_tensor_and_pooled_output_and_keeps_the_rest():
    conditioning = FluxGuidance().append(flux_like_conditioning(), 3.5)[0]
    (zeroed,) = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out(conditioning)
    for (tensor, options), (original, original_options) in zip(zeroed, conditioning, strict=True):
        assert tensor.shape == original.shape and not tensor.any()
        assert options["pooled_output"].shape == (1, 768) and not options["pooled_output"].any()
        assert options["guidance"] == 3.5
        assert original.any() and original_options["pooled_output"].any()
    assert zeroed[1][1]["strength"] == 0.5
    (no_pooled,) = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out([[torch.ones(1, 77, 768), {}]])
    assert not no_pooled[0][0].any() and no_pooled[0][1] == {}


# ---------------------------------------------------------------------------------------------- text encoders


class RecordingClip:
    """Stands in for a CLIP object: tokenize gives one 'chunk' per encoder naming the text; encoding returns the
    tokens it was given and the extra options, so the test sees which prompt reached which encoder."""

    def __init__(self, encoders: tuple[str, ...]):
        self.encoders = encoders

    def tokenize(self, text: str) -> dict[str, list]:
        return {name: [[(name, text)]] for name in self.encoders}

    def encode_from_tokens_scheduled(self, tokens: dict, add_dict: dict | None = None) -> list:
        return [[tokens, dict(add_dict or {})]]


def test_flux_text_encode_sends_each_prompt_to_its_encoder_with_the_guidance():
    clip = RecordingClip(("l", "t5xxl"))
    [[tokens, options]] = CLIPTextEncodeFlux().encode(clip, "a cat", "a photo of a cat", 2.0)[0]
    assert tokens == {"l": [[("l", "a cat")]], "t5xxl": [[("t5xxl", "a photo of a cat")]]}
    assert options == {"guidance": 2.0}


def test_flux_text_encode_refuses_a_clip_without_t5():
    with pytest.raises(ValueError, match=r"CLIPTextEncodeFlux needs a Flux text encoder .* this clip has \['l'\]"):
        CLIPTextEncodeFlux().encode(RecordingClip(("l",)), "a cat", "a cat", 3.5)


def test_sd3_text_encode_sends_each_prompt_to_its_encoder():
    clip = RecordingClip(("g", "l", "t5xxl"))
    [[tokens, options]] = CLIPTextEncodeSD3().encode(clip, "ell", "gee", "tee", "none")[0]
    assert tokens == {"g": [[("g", "gee")]], "l": [[("l", "ell")]], "t5xxl": [[("t5xxl", "tee")]]}
    assert options == {}


def test_sd3_text_encode_empty_prompts_give_no_tokens_unless_empty_prompt_padding():
    clip = RecordingClip(("g", "l", "t5xxl"))
    [[tokens, _]] = CLIPTextEncodeSD3().encode(clip, "", "", "", "none")[0]
    assert tokens == {"g": [], "l": [], "t5xxl": []}
    [[tokens, _]] = CLIPTextEncodeSD3().encode(clip, "", "", "", "empty_prompt")[0]
    assert tokens == {"g": [[("g", "")]], "l": [[("l", "")]], "t5xxl": [[("t5xxl", "")]]}
    # One empty CLIP prompt is padded to the other's chunk count with the empty prompt's chunks.
    [[tokens, _]] = CLIPTextEncodeSD3().encode(clip, "ell", "", "", "none")[0]
    assert tokens == {"g": [[("g", "")]], "l": [[("l", "ell")]], "t5xxl": []}


def test_sd3_text_encode_refuses_a_clip_without_the_sd3_encoders():
    with pytest.raises(ValueError, match=r"CLIPTextEncodeSD3 needs an SD3 text encoder .* without \['g', 't5xxl'\]"):
        CLIPTextEncodeSD3().encode(RecordingClip(("l",)), "a", "b", "c", "none")
