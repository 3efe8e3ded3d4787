"""comfy_extras.nodes_model_advanced.ModelSamplingDiscrete: a model clone that samples with another prediction
type or a zero-terminal-SNR schedule, leaving the original model as it was."""

import pytest
import torch

import comfy.model_sampling
import comfy.sd
import nodes
from comfy_extras.nodes_model_advanced import ModelSamplingDiscrete
from tests import model_factory


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model-sampling")
    models = {}
    for family in ("SD15", "SD21"):
        path = folder / f"{family}.safetensors"
        model_factory.write_tiny_checkpoint(path, family, 0)
        model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(str(path))
        encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
        models[family] = model, encode.encode(clip, "a red circle")[0], encode.encode(clip, "blurry")[0]
    return models


def run_ksampler(model, positive, negative) -> torch.Tensor:
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(32, 32, 1)[0]
    with torch.inference_mode():
        return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, 3, 3, 5.0, "euler", "normal", positive,
                                                              negative, latent)[0]["samples"]


def test_the_patched_clone_reports_the_chosen_prediction_and_the_original_is_untouched(loaded):
    model = loaded["SD21"][0]
    patched = ModelSamplingDiscrete().patch(model, "eps", False)[0]
    assert patched is not model
    assert isinstance(patched.get_model_object("model_sampling"), comfy.model_sampling.EPS)
    assert not isinstance(patched.get_model_object("model_sampling"), comfy.model_sampling.V_PREDICTION)
    assert isinstance(model.get_model_object("model_sampling"), comfy.model_sampling.V_PREDICTION)


def test_declaring_a_v_prediction_model_v_prediction_changes_nothing(loaded):
    model, positive, negative = loaded["SD21"]
    patched = ModelSamplingDiscrete().patch(model, "v_prediction", False)[0]
    assert torch.equal(run_ksampler(patched, positive, negative), run_ksampler(model, positive, negative))


@pytest.mark.parametrize("sampling", ["v_prediction", "x0"])
def test_another_prediction_type_changes_the_samples_and_the_original_comes_back(loaded, sampling):
    model, positive, negative = loaded["SD15"]
    before = run_ksampler(model, positive, negative)
    patched = ModelSamplingDiscrete().patch(model, sampling, False)[0]
    assert not torch.equal(run_ksampler(patched, positive, negative), before)
    assert torch.equal(run_ksampler(model, positive, negative), before)


def test_zsnr_rescales_the_schedule_to_a_huge_final_sigma(loaded):
    model = loaded["SD15"][0]
    plain = ModelSamplingDiscrete().patch(model, "eps", False)[0].get_model_object("model_sampling")
    zsnr = ModelSamplingDiscrete().patch(model, "v_prediction", True)[0].get_model_object("model_sampling")
    assert float(plain.sigma_max) == pytest.approx(14.6146, rel=1e-4)
    assert float(zsnr.sigma_max) > 4000.0


def test_img_to_img_which_kiln_lacks_is_refused_with_the_supported_list(loaded):
    # ComfyUI's IMG_TO_IMG class is importable as a face only (comfy/unsupported.py): it raises when used.
    assert getattr(comfy.model_sampling.IMG_TO_IMG, "__kiln_unsupported__", None), "IMG_TO_IMG exists now: test it here"
    with pytest.raises(ValueError, match=r"not supported by Kiln yet; choose one of \['eps', 'v_prediction', 'lcm', 'x0'\]"):
        ModelSamplingDiscrete().patch(loaded["SD15"][0], "img_to_img", False)


def test_lcm_samples_on_the_50_distilled_timesteps(loaded):
    model = loaded["SD15"][0]
    sampling = ModelSamplingDiscrete().patch(model, "lcm", False)[0].get_model_object("model_sampling")
    full = comfy.model_sampling.ModelSamplingDiscrete()
    assert sampling.sigmas.shape == (50,)
    torch.testing.assert_close(sampling.sigmas, full.sigmas[19::20], rtol=0, atol=0)  # timesteps 19, 39, ..., 999
    assert sampling.timestep(sampling.sigmas).tolist() == list(range(19, 1000, 20))
    torch.testing.assert_close(sampling.sigma(torch.tensor([19.0, 999.0, 509.0])),
                               torch.stack([full.sigmas[19], full.sigmas[999],
                                            (0.5 * (full.log_sigmas[499] + full.log_sigmas[519])).exp()]))


def test_lcm_denoised_mixes_the_x0_estimate_with_the_input_by_its_boundary_conditions(loaded):
    sampling = ModelSamplingDiscrete().patch(loaded["SD15"][0], "lcm", False)[0].get_model_object("model_sampling")
    x, eps = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    sigma = sampling.sigmas[[0, 49]]  # timesteps 19 and 999
    x0 = x - eps * sigma.view(2, 1, 1, 1)
    scaled = torch.tensor([190.0, 9990.0]).view(2, 1, 1, 1)
    c_skip, c_out = 0.25 / (scaled**2 + 0.25), scaled / (scaled**2 + 0.25) ** 0.5
    torch.testing.assert_close(sampling.calculate_denoised(sigma, eps, x), c_out * x0 + c_skip * x)


def test_an_lcm_patched_model_runs_the_lcm_sampler(loaded):
    model, positive, negative = loaded["SD15"]
    patched = ModelSamplingDiscrete().patch(model, "lcm", False)[0]
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(32, 32, 1)[0]

    def lcm(model):
        with torch.inference_mode():
            return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, 3, 4, 1.0, "lcm", "sgm_uniform", positive,
                                                                  negative, latent)[0]["samples"]

    samples = lcm(patched)
    assert samples.shape == (1, 4, 4, 4) and torch.isfinite(samples).all()
    assert not torch.allclose(samples, lcm(model))


def test_the_node_offers_comfyuis_sampling_choices():
    required = ModelSamplingDiscrete.INPUT_TYPES()["required"]
    assert required["sampling"][0] == ["eps", "v_prediction", "lcm", "x0", "img_to_img"]
    assert required["zsnr"][1]["default"] is False and ModelSamplingDiscrete.CATEGORY == "advanced/model"
