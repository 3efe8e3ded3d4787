"""comfy_extras.nodes_custom_sampler: the custom sampling nodes reproduce KSampler on tiny models, and the
schedule and sigma nodes give the documented values."""

import math

import pytest
import torch

import comfy.sd
import nodes
from comfy_extras import nodes_custom_sampler as custom
from tests import model_factory


@pytest.fixture(scope="module")
def sd15(tmp_path_factory):
    path = tmp_path_factory.mktemp("custom-sampler") / "SD15.safetensors"
    model_factory.write_tiny_checkpoint(path, "SD15", 0)
    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(str(path))
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, "a red circle")[0], encode.encode(clip, "blurry")[0]
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(32, 32, 2)[0]
    return model, positive, negative, latent


def ksampler(model, positive, negative, latent, sampler_name="euler", scheduler="normal", denoise=1.0):
    with torch.inference_mode():
        return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, 5, 3, 6.0, sampler_name, scheduler, positive,
                                                              negative, latent, denoise=denoise)[0]["samples"]


@pytest.mark.parametrize("sampler_name, scheduler, denoise", [("euler", "normal", 1.0),
                                                               ("euler_ancestral", "karras", 1.0),
                                                               ("dpmpp_2m", "simple", 0.6)])
def test_sampler_custom_with_select_and_basic_scheduler_equals_ksampler(sd15, sampler_name, scheduler, denoise):
    model, positive, negative, latent = sd15
    expected = ksampler(model, positive, negative, latent, sampler_name, scheduler, denoise)
    sampler = custom.KSamplerSelect().get_sampler(sampler_name)[0]
    sigmas = custom.BasicScheduler().get_sigmas(model, scheduler, 3, denoise)[0]
    with torch.inference_mode():
        output, denoised = custom.SamplerCustom().sample(model, True, 5, 6.0, positive, negative, sampler, sigmas,
                                                         latent)
    assert torch.equal(output["samples"], expected)
    assert denoised["samples"].shape == expected.shape and denoised is not output
    if sampler_name == "euler":  # its last step lands on sigma 0, i.e. on the last x0 estimate itself
        torch.testing.assert_close(denoised["samples"], expected)


def test_sampler_custom_advanced_with_random_noise_and_cfg_guider_equals_ksampler(sd15):
    model, positive, negative, latent = sd15
    expected = ksampler(model, positive, negative, latent)
    guider = custom.CFGGuider().get_guider(model, positive, negative, 6.0)[0]
    noise = custom.RandomNoise().get_noise(5)[0]
    sampler = custom.KSamplerSelect().get_sampler("euler")[0]
    sigmas = custom.BasicScheduler().get_sigmas(model, "normal", 3, 1.0)[0]
    with torch.inference_mode():
        output, _ = custom.SamplerCustomAdvanced().sample(noise, guider, sampler, sigmas, latent)
    assert torch.equal(output["samples"], expected)


def test_split_sigmas_run_in_two_halves_equals_one_run_without_ancestral_noise(sd15):
    model, positive, negative, latent = sd15
    guider = custom.CFGGuider().get_guider(model, positive, negative, 6.0)[0]
    sampler = custom.KSamplerSelect().get_sampler("euler")[0]
    sigmas = custom.BasicScheduler().get_sigmas(model, "normal", 4, 1.0)[0]
    high, low = custom.SplitSigmas().get_sigmas(sigmas, 2)
    with torch.inference_mode():
        whole, _ = custom.SamplerCustomAdvanced().sample(custom.RandomNoise().get_noise(3)[0], guider, sampler,
                                                         sigmas, latent)
        first, _ = custom.SamplerCustomAdvanced().sample(custom.RandomNoise().get_noise(3)[0], guider, sampler,
                                                         high, latent)
        second, _ = custom.SamplerCustomAdvanced().sample(custom.DisableNoise().get_noise()[0], guider, sampler,
                                                          low, first)
    torch.testing.assert_close(second["samples"], whole["samples"], rtol=1e-4, atol=1e-4)


def test_basic_guider_is_cfg_guider_at_scale_one(sd15):
    model, positive, negative, latent = sd15
    sampler = custom.KSamplerSelect().get_sampler("euler")[0]
    sigmas = custom.BasicScheduler().get_sigmas(model, "normal", 2, 1.0)[0]
    basic = custom.BasicGuider().get_guider(model, positive)[0]
    cfg_one = custom.CFGGuider().get_guider(model, positive, negative, 1.0)[0]
    with torch.inference_mode():
        first, _ = custom.SamplerCustomAdvanced().sample(custom.RandomNoise().get_noise(9)[0], basic, sampler,
                                                         sigmas, latent)
        second, _ = custom.SamplerCustomAdvanced().sample(custom.RandomNoise().get_noise(9)[0], cfg_one, sampler,
                                                          sigmas, latent)
    assert torch.equal(first["samples"], second["samples"])


def test_sampler_custom_without_noise_and_empty_sigmas_returns_the_latent(sd15):
    model, positive, negative, latent = sd15
    sampler = custom.KSamplerSelect().get_sampler("euler")[0]
    sigmas = custom.BasicScheduler().get_sigmas(model, "normal", 3, 0.0)[0]
    assert sigmas.numel() == 0
    with torch.inference_mode():
        output, denoised = custom.SamplerCustom().sample(model, False, 0, 6.0, positive, negative, sampler, sigmas,
                                                         latent)
    assert torch.equal(output["samples"], latent["samples"]) and denoised is output


def test_random_noise_follows_batch_index_like_prepare_noise():
    latent = {"samples": torch.zeros(2, 4, 8, 8), "batch_index": [3, 1]}
    noise = custom.RandomNoise().get_noise(11)[0]
    full = torch.randn((4, 4, 8, 8), generator=torch.manual_seed(11))
    assert noise.seed == 11
    assert torch.equal(noise.generate_noise(latent), full[[3, 1]])
    assert torch.equal(custom.DisableNoise().get_noise()[0].generate_noise(latent), torch.zeros(2, 4, 8, 8))


def test_basic_scheduler_matches_ksampler_sigmas_and_denoise_keeps_the_tail(sd15):
    model = sd15[0]
    full = custom.BasicScheduler().get_sigmas(model, "normal", 10, 1.0)[0]
    partial = custom.BasicScheduler().get_sigmas(model, "normal", 4, 0.5)[0]
    eight = custom.BasicScheduler().get_sigmas(model, "normal", 8, 1.0)[0]
    assert full.shape == (11,) and full[-1] == 0 and math.isclose(float(full[0]), 14.6146, rel_tol=1e-4)
    assert torch.equal(partial, eight[-5:])


def test_karras_scheduler_values():
    sigmas = custom.KarrasScheduler().get_sigmas(3, 14.614642, 0.0291675, 7.0)[0]
    ramp = torch.tensor([0.0, 0.5, 1.0])
    top, bottom = 14.614642 ** (1 / 7), 0.0291675 ** (1 / 7)
    expected = torch.cat([(top + ramp * (bottom - top)) ** 7, torch.zeros(1)])
    torch.testing.assert_close(sigmas, expected)
    assert math.isclose(float(sigmas[0]), 14.614642, rel_tol=1e-5)


def test_exponential_scheduler_values_are_log_linear():
    sigmas = custom.ExponentialScheduler().get_sigmas(5, 10.0, 0.1)[0]
    assert sigmas.shape == (6,) and sigmas[-1] == 0
    expected = torch.exp(torch.linspace(math.log(10.0), math.log(0.1), 5))
    torch.testing.assert_close(sigmas[:-1], expected)


def test_split_sigmas_halves_share_the_cut_sigma():
    sigmas = torch.tensor([10.0, 5.0, 2.0, 1.0, 0.0])
    high, low = custom.SplitSigmas().get_sigmas(sigmas, 2)
    assert high.tolist() == [10.0, 5.0, 2.0] and low.tolist() == [2.0, 1.0, 0.0]


def test_split_sigmas_denoise_gives_the_low_fraction_of_steps():
    sigmas = torch.tensor([10.0, 5.0, 2.0, 1.0, 0.0])
    high, low = custom.SplitSigmasDenoise().get_sigmas(sigmas, 0.5)
    assert high.tolist() == [10.0, 5.0, 2.0] and low.tolist() == [2.0, 1.0, 0.0]


def test_flip_sigmas_reverses_and_lifts_a_leading_zero():
    flipped = custom.FlipSigmas().get_sigmas(torch.tensor([10.0, 1.0, 0.0]))[0]
    assert flipped.tolist() == pytest.approx([0.0001, 1.0, 10.0])


def test_the_nodes_are_registered_with_comfyui_categories_and_outputs():
    mappings = custom.NODE_CLASS_MAPPINGS
    assert set(mappings) >= {"SamplerCustom", "SamplerCustomAdvanced", "KSamplerSelect", "BasicScheduler",
                             "KarrasScheduler", "ExponentialScheduler", "RandomNoise", "DisableNoise",
                             "BasicGuider", "CFGGuider", "SplitSigmas"}
    assert mappings["SamplerCustom"].RETURN_NAMES == ("output", "denoised_output")
    assert list(mappings["SamplerCustom"].INPUT_TYPES()["required"]) == [
        "model", "add_noise", "noise_seed", "cfg", "positive", "negative", "sampler", "sigmas", "latent_image"]
    assert mappings["BasicScheduler"].CATEGORY == "sampling/custom_sampling/schedulers"
