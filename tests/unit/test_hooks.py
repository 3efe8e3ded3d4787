"""comfy.hooks and comfy.hooked_weights: keyframe schedules step as ComfyUI's do, hook groups combine and are
shared as ComfyUI shares them, the sampler runs each hook group with its own weights, and the weights come back."""

from __future__ import annotations

import types

import pytest
import torch

import comfy.hooked_weights
import comfy.hooks
import comfy.samplers
from comfy.hooks import HookGroup, HookKeyframe, HookKeyframeGroup, WeightHook


class _Sampling:
    """percent_to_sigma of a schedule whose sigma falls linearly from 10 (0 %) to 0 (100 %)."""

    @staticmethod
    def percent_to_sigma(percent: float) -> float:
        return 999999999.9 if percent <= 0.0 else 10.0 * (1.0 - percent)


_MODEL = types.SimpleNamespace(model_sampling=_Sampling())
_SIGMAS = torch.tensor([10.0, 7.5, 5.0, 2.5, 0.0])


def _strengths(keyframes: HookKeyframeGroup, sigmas: torch.Tensor = _SIGMAS) -> list[float]:
    keyframes.reset()
    keyframes.initialize_timesteps(_MODEL)
    options = {"sample_sigmas": sigmas}
    found = []
    for sigma in sigmas[:-1]:
        keyframes.prepare_current_keyframe(sigma, options)
        keyframes.prepare_current_keyframe(sigma, options)  # a second call at the same sigma does not step
        found.append(float(keyframes.strength))
    return found


def _keyframes(*pairs: tuple[float, float], guarantee_steps: int = 1) -> HookKeyframeGroup:
    group = HookKeyframeGroup()
    for strength, start in pairs:
        group.add(HookKeyframe(strength, start, guarantee_steps))
    return group


def test_a_keyframe_takes_over_from_the_first_step_at_or_below_its_start_sigma():
    assert _strengths(_keyframes((0.0, 0.0), (1.0, 0.5))) == [0.0, 0.0, 1.0, 1.0]


def test_without_keyframes_the_strength_is_one():
    assert _strengths(HookKeyframeGroup()) == [1.0, 1.0, 1.0, 1.0]


def test_keyframes_are_kept_in_start_order_and_a_guaranteed_step_holds_a_keyframe():
    # both later keyframes (0.45, then 0.5) are reached at the third step; the first holds it (guarantee 1)
    assert _strengths(_keyframes((2.0, 0.5), (0.5, 0.0), (3.0, 0.45))) == [0.5, 0.5, 3.0, 2.0]
    # without guaranteed steps the last keyframe reached wins at once
    assert _strengths(_keyframes((2.0, 0.5), (0.5, 0.0), (3.0, 0.45), guarantee_steps=0)) == [0.5, 0.5, 2.0, 2.0]


def test_a_run_that_starts_late_passes_earlier_keyframes_at_once():
    late = torch.tensor([5.0, 2.5, 0.0])
    assert _strengths(_keyframes((0.0, 0.0), (1.0, 0.25), (2.0, 0.5)), late) == [2.0, 2.0]


def test_combining_hook_groups_keeps_each_hook_once():
    a, b = comfy.hooks.create_hook_lora({}, 1.0, 1.0), comfy.hooks.create_hook_lora({}, 0.5, 0.0)
    assert HookGroup.combine_all_hooks([None, a]) is a
    assert HookGroup.combine_all_hooks([None, None]) is None
    combined = HookGroup.combine_all_hooks([a, b, a])
    assert combined.hooks == a.hooks + b.hooks and combined.hooks[0] is not a.hooks[0]  # clones, equal by ref
    with pytest.raises(Exception, match="at least 3"):
        HookGroup.combine_all_hooks([a, b], require_count=3)


def test_keyframes_set_on_a_group_are_shared_by_its_hooks_clones():
    group = comfy.hooks.create_hook_lora({}, 1.0, 1.0)
    scheduled = group.clone()
    scheduled.set_keyframes_on_hooks(_keyframes((0.25, 0.0)))
    assert group.hooks[0].strength == 1.0 and scheduled.hooks[0].strength == 0.25
    assert scheduled.clone().hooks[0].hook_keyframe is scheduled.hooks[0].hook_keyframe


def test_entries_that_shared_a_group_share_the_combined_group():
    first = comfy.hooks.create_hook_lora({}, 1.0, 1.0)
    cond = comfy.hooks.set_hooks_for_conditioning([[None, {}], [None, {}]], first)
    assert cond[0][1]["hooks"] is first and cond[1][1]["hooks"] is first
    second = comfy.hooks.create_hook_lora({}, 1.0, 1.0)
    (combined,) = comfy.hooks.set_conds_props([cond], 1.0, "default", hooks=second)
    assert combined[0][1]["hooks"] is combined[1][1]["hooks"]
    assert combined[0][1]["hooks"].hooks == first.hooks + second.hooks


def test_set_properties_puts_the_mask_and_the_step_range_on_the_new_entries_only():
    mask = torch.ones(4, 4)
    (out,) = comfy.hooks.set_conds_props_and_combine([[[None, {"a": 1}]]], [[[None, {}]]], 0.5, "mask bounds",
                                                     mask=mask, timesteps_range=(0.2, 0.8))
    assert out[0][1] == {"a": 1}
    assert out[1][1]["mask"].shape == (1, 4, 4) and out[1][1]["mask_strength"] == 0.5
    assert out[1][1]["set_area_to_bounds"] is True
    assert (out[1][1]["start_percent"], out[1][1]["end_percent"]) == (0.2, 0.8)


# ---------------------------------------------------------------------------------------------- sampling


class _TinyModel(torch.nn.Module):
    """A 'BaseModel' whose prediction is x times its one weight, that remembers each call's batch size."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1, 1), requires_grad=False)
        self.model_sampling = _Sampling()
        self.calls: list[tuple[int, float]] = []

    def apply_model(self, x, timestep, **conditioning):
        self.calls.append((x.shape[0], float(self.scale)))
        return x * self.scale


def _hooked(model: _TinyModel, conds: dict) -> comfy.hooked_weights.HookedWeights:
    hooked = comfy.hooked_weights.HookedWeights.for_conds(types.SimpleNamespace(weight_rounding_dtype=None), model,
                                                          conds)
    for entry in [entry for cond in conds.values() for entry in cond]:
        for hook in entry.get("hooks").hooks if entry.get("hooks") else ():
            # a LoRA delta of +strength on the one weight, bypassing the family's key map
            hooked._lora_patches[hook.hook_ref] = [("scale", torch.ones(1, 1))]
    return hooked


def _entry(hooks: HookGroup | None = None, **options) -> dict:
    return {"model_conds": {}, "uuid": None, **({"hooks": hooks} if hooks is not None else {}), **options}


def test_a_run_without_hooks_creates_no_hook_state():
    assert comfy.hooked_weights.HookedWeights.for_conds(None, _TinyModel(), {"positive": [_entry()]}) is None


def test_each_hook_group_runs_with_its_weights_at_its_keyframe_strength_and_the_weights_come_back():
    model = _TinyModel()
    hook = comfy.hooks.create_hook_lora({}, 2.0, 0.0)
    hook.set_keyframes_on_hooks(_keyframes((0.5, 0.0), (1.0, 0.5)))
    conds = {"positive": [_entry(hook)], "negative": [_entry()]}
    hooked = _hooked(model, conds)
    options = {comfy.hooked_weights.MODEL_OPTIONS_KEY: hooked, "transformer_options": {"sample_sigmas": _SIGMAS}}
    x = torch.ones(1, 1, 2, 2)
    for sigma in _SIGMAS[:-1]:
        cond, uncond = comfy.samplers.calc_cond_batch(model, [conds["positive"], conds["negative"]], x,
                                                      sigma.reshape(1), options)
    hooked.restore()
    # hooked group first (order of appearance), each alone: 1 + 2.0 * 0.5, then 1 + 2.0 * 1.0 from half-way
    assert model.calls == [(1, 2.0), (1, 1.0)] * 2 + [(1, 3.0), (1, 1.0)] * 2
    assert float(cond.mean()) == 3.0 and float(uncond.mean()) == 1.0
    assert float(model.scale) == 1.0


def test_entries_sharing_a_hook_group_are_batched_together():
    model = _TinyModel()
    hook = comfy.hooks.create_hook_lora({}, 1.0, 0.0)
    conds = {"positive": [_entry(hook)], "negative": [_entry(hook)]}
    options = {comfy.hooked_weights.MODEL_OPTIONS_KEY: _hooked(model, conds),
               "transformer_options": {"sample_sigmas": _SIGMAS}}
    comfy.samplers.calc_cond_batch(model, [conds["positive"], conds["negative"]], torch.ones(1, 1, 2, 2),
                                   _SIGMAS[:1], options)
    assert model.calls == [(2, 2.0)]


def test_a_default_entry_gets_the_weight_the_others_leave():
    model = _TinyModel()
    hook = comfy.hooks.create_hook_lora({}, 1.0, 0.0)
    masked = _entry(mask=torch.full((1, 2, 2), 0.75))
    conds = {"positive": [masked, _entry(hook, default=True)]}
    options = {comfy.hooked_weights.MODEL_OPTIONS_KEY: _hooked(model, conds),
               "transformer_options": {"sample_sigmas": _SIGMAS}}
    (cond,) = comfy.samplers.calc_cond_batch(model, [conds["positive"]], torch.ones(1, 1, 2, 2), _SIGMAS[:1], options)
    # 0.75 of the unhooked prediction (1) and 0.25 of the hooked one (2)
    assert torch.allclose(cond, torch.full_like(cond, 1.25))


def test_a_weight_hooks_model_strength_is_its_strength_times_the_keyframes():
    hook = WeightHook(strength_model=0.5, strength_clip=2.0)
    hook.hook_keyframe = _keyframes((4.0, 0.0))
    assert (hook.strength_model, hook.strength_clip) == (2.0, 8.0)


def test_the_clip_schedule_splits_the_run_where_any_hooks_strength_changes():
    first = comfy.hooks.create_hook_lora({}, 1.0, 1.0)
    first.set_keyframes_on_hooks(_keyframes((0.0, 0.0), (1.0, 0.5), (1.0, 0.7)))  # same strength at 0.7: no split
    second = comfy.hooks.create_hook_lora({}, 1.0, 1.0)
    second.set_keyframes_on_hooks(_keyframes((2.0, 0.25), (3.0, 0.25)))  # starting together: the last counts
    plain = comfy.hooks.create_hook_lora({}, 1.0, 1.0)
    group = HookGroup.combine_all_hooks([first, second, plain])
    schedule = group.get_hooks_for_clip_schedule()
    assert [span for span, _ in schedule] == [(0.0, 0.25), (0.25, 0.5), (0.5, 1.0)]
    strengths = [[keyframe.strength if keyframe is not None else None for _, keyframe in chosen]
                 for _, chosen in schedule]
    assert strengths == [[0.0, None, None], [0.0, 3.0, None], [1.0, 3.0, None]]


def test_a_model_as_lora_hook_moves_the_weights_towards_the_other_models():
    model = _TinyModel()
    hook = comfy.hooks.create_hook_model_as_lora({"scale": torch.full((1, 1), 3.0)}, None, 0.25, 1.0)
    conds = {"positive": [_entry(hook)]}
    hooked = comfy.hooked_weights.HookedWeights.for_conds(types.SimpleNamespace(weight_rounding_dtype=None), model,
                                                          conds)
    hooked.apply(hook)
    assert float(model.scale) == 1.5  # 1 + 0.25 * (3 - 1)
    hooked.restore()
    assert float(model.scale) == 1.0


def test_the_weights_of_a_model_as_lora_leave_out_model_sampling():
    patcher = types.SimpleNamespace(model=types.SimpleNamespace(state_dict=lambda: {
        "model_sampling.sigmas": torch.ones(1), "diffusion_model.w": torch.ones(1)}))
    assert list(comfy.hooks.get_patch_weights_from_model(patcher)) == ["diffusion_model.w"]
    assert comfy.hooks.get_patch_weights_from_model(None) is None


def test_comfyuis_hook_counting_helpers_see_the_conditionings_hooks():
    import comfy.sampler_helpers

    first, second = comfy.hooks.create_hook_lora({}, 1.0, 1.0), comfy.hooks.create_hook_lora({}, 1.0, 1.0)
    control = types.SimpleNamespace(extra_hooks=second, previous_controlnet=None)
    conds = {"positive": [_entry(first), _entry(control=control)], "negative": [_entry(first)]}
    assert comfy.samplers.get_total_hook_groups_in_conds(conds) == 2  # `first` and no hooks
    found = comfy.sampler_helpers.get_hooks_from_cond(conds["positive"], HookGroup())
    assert found.hooks == first.hooks + second.hooks
