"""Classifier-free guidance and conditioning: the cfg-1 shortcut, the formula and its hooks, and ComfyUI's
area / mask / strength / timestep-range handling, on a model whose prediction is the conditioning's value."""

import pytest
import torch

import comfy.model_sampling
import comfy.samplers


class ConstantModel:
    """Predicts, for every pixel, the value stored in c_crossattn[b, 0, 0]; records input shapes."""

    def __init__(self):
        self.model_sampling = comfy.model_sampling.model_sampling("eps")
        self.calls = []

    def extra_conds(self, cond, options, noise):
        return {"c_crossattn": cond}

    def apply_model(self, x, sigma, c_crossattn=None, transformer_options=None, **kwargs):
        self.calls.append({"shape": tuple(x.shape), "values": c_crossattn[:, 0, 0].tolist(),
                           "cond_or_uncond": transformer_options["cond_or_uncond"]})
        return c_crossattn[:, 0, 0].view(-1, 1, 1, 1).expand_as(x).clone()


def _cond(value, tokens=77, **options):
    return [torch.full((1, tokens, 8), float(value)), options]


def _prepare(model, noise, positive, negative=None):
    conds = {"positive": comfy.samplers.convert_cond(positive)}
    if negative is not None:
        conds["negative"] = comfy.samplers.convert_cond(negative)
    return comfy.samplers.process_conds(model, noise, conds)


def _guided(cfg, positive, negative, model_options=None, sigma=1.0, shape=(1, 4, 16, 16)):
    model = ConstantModel()
    x = torch.zeros(shape)
    conds = _prepare(model, x, positive, negative)
    out = comfy.samplers.sampling_function(model, x, torch.tensor([sigma]), conds["negative"], conds["positive"], cfg,
                                           model_options=model_options or {})
    return out, model.calls


def test_cfg_one_skips_the_unconditional_pass():
    out, calls = _guided(1.0, [_cond(2)], [_cond(-5)])
    assert len(calls) == 1 and calls[0]["values"] == [2.0]
    assert torch.all(out == 2.0)


def test_cfg_combines_denoised_predictions_as_uncond_plus_scaled_difference():
    out, calls = _guided(3.0, [_cond(2)], [_cond(-1)])
    assert len(calls) == 1 and calls[0]["shape"][0] == 2  # cond and uncond in one batch
    assert calls[0]["cond_or_uncond"] == [1, 0]
    assert torch.allclose(out, torch.full_like(out, -1 + (2 - -1) * 3.0))


def test_disable_cfg1_optimization_forces_the_unconditional_pass():
    out, calls = _guided(1.0, [_cond(2)], [_cond(-5)], {"disable_cfg1_optimization": True})
    assert calls[0]["shape"][0] == 2 and torch.all(out == 2.0)


def test_sampler_cfg_function_replaces_the_formula_and_sees_noise_predictions():
    seen = {}

    def cfg_function(args):
        seen.update(args)
        return args["uncond"]  # guidance toward the unconditional prediction only

    out, _ = _guided(5.0, [_cond(2)], [_cond(-1)], {"sampler_cfg_function": cfg_function})
    assert torch.all(seen["cond"] == -2.0) and torch.all(seen["uncond"] == 1.0)  # x - pred, x = 0
    assert torch.all(seen["cond_denoised"] == 2.0) and seen["cond_scale"] == 5.0
    assert torch.all(out == -1.0)


def test_pre_and_post_cfg_hooks_run_in_order():
    def pre(args):
        return [args["conds_out"][0] * 2, args["conds_out"][1]]

    def post(args):
        assert torch.all(args["uncond_denoised"] == -1.0) and torch.all(args["cond_denoised"] == 4.0)
        return args["denoised"] + 100

    out, _ = _guided(2.0, [_cond(2)], [_cond(-1)], {"sampler_pre_cfg_function": [pre],
                                                    "sampler_post_cfg_function": [post]})
    assert torch.all(out == -1 + (4 - -1) * 2.0 + 100)


def test_several_conds_are_averaged_by_strength():
    out, calls = _guided(1.0, [_cond(1, strength=1.0), _cond(3, strength=3.0)], [_cond(0)])
    assert len(calls) == 1 and calls[0]["shape"][0] == 2
    assert torch.allclose(out, torch.full_like(out, (1 * 1 + 3 * 3) / 4))


def test_conds_with_different_token_counts_run_in_separate_batches():
    out, calls = _guided(1.0, [_cond(1), _cond(3, tokens=154)], [_cond(0)])
    assert len(calls) == 2 and all(c["shape"][0] == 1 for c in calls)
    assert torch.allclose(out, torch.full_like(out, 2.0))


def test_area_cond_applies_inside_its_box_with_faded_inner_edges():
    out, calls = _guided(1.0, [_cond(1), _cond(3, area=(8, 8, 0, 0))], [_cond(0)])
    assert sorted(c["shape"] for c in calls) == [(1, 4, 8, 8), (1, 4, 16, 16)]
    ramp = (8 - torch.arange(8.0)) / 8  # weight fades toward the box's right and bottom edges
    weight = ramp.view(8, 1) * ramp.view(1, 8)
    expected = torch.ones(16, 16)
    expected[:8, :8] = (1 + 3 * weight) / (1 + weight)
    assert torch.allclose(out[0, 0], expected, atol=1e-6)


def test_percentage_area_is_resolved_against_the_latent_size():
    conds = _prepare(ConstantModel(), torch.zeros(1, 4, 16, 32), [_cond(1, area=("percentage", 0.5, 0.25, 0.5, 0.5))])
    assert conds["positive"][0]["area"] == (8, 8, 8, 16)


def test_area_cond_gets_a_matching_negative_area_entry():
    conds = _prepare(ConstantModel(), torch.zeros(1, 4, 16, 16), [_cond(3, area=(8, 8, 0, 0))], [_cond(-1)])
    negatives = conds["negative"]
    assert len(negatives) == 2 and negatives[1]["area"] == (8, 8, 0, 0)
    assert torch.all(negatives[1]["model_conds"]["c_crossattn"] == -1.0)


def test_mask_cond_weights_pixels_by_mask_times_strength():
    mask = torch.zeros(1, 16, 16)
    mask[:, :, :8] = 0.5
    out, _ = _guided(1.0, [_cond(1), _cond(3, mask=mask, strength=2.0)], [_cond(0)])
    assert torch.allclose(out[..., :8], torch.full_like(out[..., :8], (1 + 3 * 1.0) / 2))
    assert torch.allclose(out[..., 8:], torch.ones_like(out[..., 8:]))


def test_mask_strength_scales_the_mask_and_masks_are_resized_to_the_latent():
    mask = torch.ones(1, 64, 64)  # pixel-sized mask, resized to 16×16
    out, _ = _guided(1.0, [_cond(1), _cond(3, mask=mask, mask_strength=0.5)], [_cond(0)])
    assert torch.allclose(out, torch.full_like(out, (1 + 3 * 0.5) / 1.5))


def test_set_area_to_bounds_runs_the_cond_only_on_the_masks_bounding_box():
    mask = torch.zeros(1, 16, 16)
    mask[:, 2:12, 4:14] = 1.0
    out, calls = _guided(1.0, [_cond(1), _cond(3, mask=mask, set_area_to_bounds=True)], [_cond(0)])
    assert (1, 4, 10, 10) in [c["shape"] for c in calls]
    assert torch.allclose(out[0, 0, 2:12, 4:14], torch.full((10, 10), 2.0))
    assert torch.all(out[0, 0, :2] == 1.0)


def test_timestep_range_limits_a_cond_to_part_of_the_schedule():
    model_sampling = comfy.model_sampling.model_sampling("eps")
    positive = [_cond(1), _cond(3, start_percent=0.5, end_percent=1.0)]
    sigma_mid = model_sampling.percent_to_sigma(0.5)
    early, _ = _guided(1.0, positive, [_cond(0)], sigma=sigma_mid * 2)
    late, _ = _guided(1.0, positive, [_cond(0)], sigma=sigma_mid / 2)
    assert torch.all(early == 1.0)
    assert torch.all(late == 2.0)


def test_calc_cond_batch_skips_missing_lists():
    model = ConstantModel()
    x = torch.zeros(1, 4, 8, 8)
    conds = _prepare(model, x, [_cond(7)])
    cond_out, uncond_out = comfy.samplers.calc_cond_batch(model, [conds["positive"], None], x, torch.tensor([1.0]))
    assert torch.all(cond_out == 7.0) and torch.all(uncond_out == 0.0)


@pytest.mark.parametrize("name", ["euler", "ddim", "uni_pc", "dpm_fast"])
def test_sampler_object_builds_a_ksampler_for_every_kind_of_name(name):
    assert isinstance(comfy.samplers.sampler_object(name), comfy.samplers.KSAMPLER)


class FakeControl:
    """Records the ControlNet protocol calls the sampler makes."""

    def __init__(self):
        self.events = []

    def pre_run(self, model, percent_to_sigma):
        self.events.append(("pre_run", percent_to_sigma(1.0)))

    def get_control(self, x, timestep, cond, batched_number, transformer_options):
        self.events.append(("get_control", tuple(x.shape), batched_number))
        return {"output": [x.shape[0]]}

    def cleanup(self):
        self.events.append(("cleanup",))


def test_control_objects_are_prepared_called_per_batch_and_shared_with_the_uncond():
    control = FakeControl()
    model = ConstantModel()
    x = torch.zeros(1, 4, 8, 8)
    conds = _prepare(model, x, [_cond(2, control=control, control_apply_to_uncond=True)], [_cond(-1)])
    assert conds["negative"][0]["control"] is control
    assert control.events == [("pre_run", 0.0)]
    comfy.samplers.sampling_function(model, x, torch.tensor([1.0]), conds["negative"], conds["positive"], 2.0)
    assert control.events[-1] == ("get_control", (2, 4, 8, 8), 2)  # cond and uncond still batched together
    comfy.samplers.cleanup_controls(conds)
    assert control.events[-1] == ("cleanup",)


def test_encode_model_conds_calls_a_comfyui_style_function_with_keywords():
    """A pack's own `extra_conds(**kwargs)` gets ComfyUI's keywords; the list comes back, filled."""
    seen = {}

    def extra_conds(**kwargs):
        seen.update(kwargs)
        return {"c_crossattn": kwargs["cross_attn"] * 2}

    noise = torch.zeros(1, 4, 8, 6)
    conds = [{"cross_attn": torch.ones(1, 3, 8), "model_conds": {}}]
    out = comfy.samplers.encode_model_conds(extra_conds, conds, noise, noise.device, "negative", seed=5)
    assert out is conds and torch.equal(conds[0]["model_conds"]["c_crossattn"], torch.full((1, 3, 8), 2.0))
    assert (seen["width"], seen["height"], seen["prompt_type"], seen["seed"]) == (48, 64, "negative", 5)
    assert seen["noise"] is noise and seen["device"] == noise.device
