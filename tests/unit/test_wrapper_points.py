"""The wrapper points of comfy.patcher_extension that Kiln runs during sampling: a wrapper at each point is called
with ComfyUI's arguments, and what it returns is what the step gives."""

from __future__ import annotations

import types

import pytest
import torch

import comfy.model_base
import comfy.samplers
from comfy.patcher_extension import WrappersMP
from tests.model_factory import build_tiny_models


def _options(point: str, wrapper) -> dict:
    return {"wrappers": {point: {"test": [wrapper]}}}


@pytest.fixture(scope="module")
def tiny_sd15():
    return comfy.model_base.BaseModel(build_tiny_models("SD15", seed=2).unet)


def test_a_diffusion_model_wrapper_sees_comfyuis_unet_arguments_and_its_result_is_used(tiny_sd15):
    seen = {}

    def wrapper(executor, *args, **kwargs):
        seen.update(args=args, kwargs=kwargs, class_obj=executor.class_obj, output=executor(*args, **kwargs))
        return torch.zeros_like(args[0])

    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    context = torch.randn(1, 7, 32, generator=torch.Generator().manual_seed(2))
    sigma = torch.tensor([3.0])
    transformer_options = _options(WrappersMP.DIFFUSION_MODEL, wrapper)
    denoised = tiny_sd15.apply_model(x, sigma, c_crossattn=context, transformer_options=transformer_options)
    model_x, timesteps, passed_context, y, control, options = seen["args"]
    assert seen["class_obj"] is tiny_sd15.diffusion_model
    torch.testing.assert_close(model_x, tiny_sd15.model_sampling.calculate_input(sigma, x))
    torch.testing.assert_close(timesteps, tiny_sd15.model_sampling.timestep(sigma).float())
    assert passed_context is context and y is None and control is None
    assert options["wrappers"] is transformer_options["wrappers"]
    # the network's raw output (eps) of zero makes the denoised prediction the input itself
    torch.testing.assert_close(denoised, x)
    plain = tiny_sd15.apply_model(x, sigma, c_crossattn=context, transformer_options={})
    torch.testing.assert_close(tiny_sd15.model_sampling.calculate_denoised(sigma, seen["output"], x), plain)


def test_a_diffusion_model_wrapper_may_change_the_arguments_it_passes_on(tiny_sd15):
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    context = torch.randn(1, 7, 32, generator=torch.Generator().manual_seed(2))
    other = torch.randn(1, 7, 32, generator=torch.Generator().manual_seed(3))
    sigma = torch.tensor([3.0])

    def swap_context(executor, x, timesteps, context, *rest, **kwargs):
        return executor(x, timesteps, other, *rest, **kwargs)

    swapped = tiny_sd15.apply_model(x, sigma, c_crossattn=context,
                                    transformer_options=_options(WrappersMP.DIFFUSION_MODEL, swap_context))
    torch.testing.assert_close(swapped, tiny_sd15.apply_model(x, sigma, c_crossattn=other, transformer_options={}))


def test_a_calc_cond_batch_wrapper_sees_comfyuis_arguments_and_its_result_is_used():
    seen = {}
    result = [torch.ones(1, 4, 2, 2)]

    def wrapper(executor, *args, **kwargs):
        seen["args"] = args
        return result

    model = object()
    conds = [[{"model_conds": {}}]]
    x, sigma = torch.zeros(1, 4, 2, 2), torch.tensor([1.0])
    model_options = {"transformer_options": _options(WrappersMP.CALC_COND_BATCH, wrapper)}
    assert comfy.samplers.calc_cond_batch(model, conds, x, sigma, model_options) is result
    assert seen["args"] == (model, conds, x, sigma, model_options)


def test_a_predict_noise_wrapper_sees_comfyuis_arguments_and_its_result_is_used():
    seen = {}
    result = torch.ones(1, 4, 2, 2)

    def wrapper(executor, *args, **kwargs):
        seen.update(args=args, class_obj=executor.class_obj)
        return result

    patcher = types.SimpleNamespace(model_options={"transformer_options": _options(WrappersMP.PREDICT_NOISE,
                                                                                    wrapper)})
    guider = comfy.samplers.CFGGuider(patcher)
    x, sigma, model_options = torch.zeros(1, 4, 2, 2), torch.tensor([1.0]), {"transformer_options": {}}
    assert guider(x, sigma, model_options=model_options, seed=5) is result
    assert seen["args"] == (x, sigma, model_options, 5) and seen["class_obj"] is guider


def test_a_sampler_sample_wrapper_sees_comfyuis_arguments_and_its_result_is_used(tmp_path):
    import comfy.sample
    import comfy.sd
    from tests import model_factory

    model_factory.write_tiny_checkpoint(tmp_path / "tiny.safetensors", "SD15", 0)
    model = comfy.sd.load_checkpoint_guess_config(str(tmp_path / "tiny.safetensors"))[0]
    seen = {}

    def wrapper(executor, *args, **kwargs):
        seen.update(args=args, class_obj=executor.class_obj, output=executor(*args, **kwargs))
        return torch.zeros_like(seen["output"])

    patched = model.clone()
    patched.add_wrapper(WrappersMP.SAMPLER_SAMPLE, wrapper)
    width = patched.model.diffusion_model.config.cross_attention_dim
    prompt = [[torch.randn(1, 7, width, generator=torch.Generator().manual_seed(4)), {}]]
    latent = torch.zeros(1, 4, 8, 8)
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(5))
    arguments = (noise, 2, 5.0, "euler", "normal", prompt, prompt, latent)
    samples = comfy.sample.sample(patched, *arguments, seed=3)
    guider, sigmas, extra_args, callback, passed_noise, latent_image, denoise_mask, disable_pbar = seen["args"]
    assert isinstance(guider, comfy.samplers.CFGGuider) and isinstance(seen["class_obj"], comfy.samplers.KSAMPLER)
    assert sigmas.shape == (3,) and extra_args["seed"] == 3 and denoise_mask is None
    torch.testing.assert_close(samples, torch.zeros_like(samples))  # the wrapper's zeros, out of model space
    plain = comfy.sample.sample(model, *arguments, seed=3)
    torch.testing.assert_close(patched.model.latent_format.process_out(seen["output"]), plain)
