"""EasyCache and LazyCache without a model: when they reuse the cache, what a reused step gives, and that each
sampling run works on its own copy of the holder (the recorded ComfyUI runs are replayed in
tests/e2e/test_reference_node_replays.py and tests/unit/test_flow_probes.py)."""

from __future__ import annotations

import types

import pytest
import torch

from comfy_extras.nodes_easycache import (
    EasyCacheHolder,
    LazyCacheHolder,
    easycache_sample_wrapper,
    lazycache_predict_noise_wrapper,
)


class LinearSampling:
    """percent → sigma = 1 - percent."""

    def percent_to_sigma(self, percent: float) -> float:
        return 1.0 - percent


def _holder(kind: type, threshold: float) -> EasyCacheHolder:
    return kind(threshold, 0.2, 0.9, subsample_factor=1, offload_cache_diff=False).prepare_timesteps(LinearSampling())


def test_a_skipped_easycache_step_adds_every_conditionings_difference_to_each_part_in_place():
    holder = _holder(EasyCacheHolder, 0.5)
    holder.first_cond_uuid = "cond"
    holder.uuid_cache_diffs = {"cond": torch.full((1, 1, 2, 2), 1.0), "uncond": torch.full((1, 1, 2, 2), 10.0)}
    x = torch.zeros(2, 1, 2, 2)
    out = holder.apply_cache_diff(x, ["cond", "uncond"])
    assert out is x and torch.equal(out, torch.full((2, 1, 2, 2), 11.0))
    assert holder.total_steps_skipped == 1
    holder.apply_cache_diff(torch.zeros(1, 1, 2, 2), ["uncond"])  # another call of the same step
    assert holder.total_steps_skipped == 1


def _run_lazycache(threshold: float) -> tuple[int, LazyCacheHolder, list[torch.Tensor]]:
    """A 10-step run of x_k = (10 - k) · ones through the wrapper around a 'guider' giving 0.5 · x; (the guider's
    calls, the holder, the outputs)."""
    holder = _holder(LazyCacheHolder, threshold)
    calls = []

    def predict_noise(x, sigma, model_options, seed):
        calls.append(float(sigma[0]))
        return 0.5 * x

    outputs = []
    options = {"transformer_options": {"easycache": holder}}
    for step in range(10):
        x, sigma = torch.full((1, 1, 2, 2), 10.0 - step), torch.tensor([1.0 - step / 10])
        outputs.append(lazycache_predict_noise_wrapper(predict_noise, x, sigma, options, 0))
    return len(calls), holder, outputs


def test_lazycache_never_reuses_at_threshold_zero():
    calls, holder, _ = _run_lazycache(0.0)
    assert calls == 10 and holder.total_steps_skipped == 0


def test_lazycache_reuses_the_cache_within_its_window_and_the_reused_step_is_x_plus_the_cached_difference():
    calls, holder, outputs = _run_lazycache(3.0)
    # sigmas 1.0 .. 0.1; window: sigma <= 0.8 and > 0.1. Steps 0-1 come before it and step 2 (the first in it)
    # learns the transformation rate; steps 3-8 then reuse the cache (the predicted change stays under 3); step 9 is
    # past the end
    assert calls == 4 and holder.total_steps_skipped == 6
    # the cached difference is step 2's output - input: 0.5 · 8 - 8 = -4
    torch.testing.assert_close(outputs[5], torch.full((1, 1, 2, 2), 5.0 - 4.0))
    torch.testing.assert_close(outputs[9], torch.full((1, 1, 2, 2), 0.5))


class _Executor:
    """What a wrapper is given: calling it runs `function`; `class_obj` is the guider."""

    def __init__(self, class_obj, function):
        self.class_obj = class_obj
        self.function = function

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


def test_the_sample_wrapper_gives_each_run_a_fresh_holder_and_restores_the_guiders_options():
    holder = EasyCacheHolder(0.2, 0.15, 0.95, 8, False)
    holder.total_steps_skipped = 5
    options = {"transformer_options": {"easycache": holder}}
    model = types.SimpleNamespace(model_sampling=LinearSampling(), latent_format=types.SimpleNamespace(
        latent_channels=4))
    guider = types.SimpleNamespace(model_options=options, model_patcher=types.SimpleNamespace(model=model))
    seen = {}

    def outer_sample(*args):
        seen["holder"] = guider.model_options["transformer_options"]["easycache"]

    easycache_sample_wrapper(_Executor(guider, outer_sample), None, None, None, torch.linspace(1, 0, 5))
    assert seen["holder"] is not holder and seen["holder"].total_steps_skipped == 0
    assert seen["holder"].start_t == pytest.approx(0.85) and seen["holder"].output_channels == 4
    assert guider.model_options is options and options["transformer_options"]["easycache"] is holder
