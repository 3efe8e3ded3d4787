"""FLUX.1 (dev, schnell), SD3 and the 16-channel VAE: detection from keys, loading through the loader nodes,
sampling a few steps, fp8 weight storage and clear errors for broken files (tiny models built by
tests/model_factory.py, full-size layouts on the meta device)."""

import dataclasses
import json

import pytest
import torch

import comfy.manual_cast
import comfy.samplers
import comfy.sd
import nodes
from comfy import model_detection, supported_models
from comfy.model_base import Flux, ModelType
from comfy.supported_models import WeightLoadError
from comfy_extras.nodes_sd3 import EmptySD3LatentImage
from tests import model_factory
from tests.conftest import FIXTURES
from tests.unit.analytic_model import assert_schedule_close, load_json


def write(path, state_dict):
    return model_factory.write_safetensors(path, state_dict)


@pytest.fixture
def flow_models(base):
    """Tiny Flux dev / schnell / SD3 model-only files, a 16-channel VAE, and all-in-one SD3 / Flux schnell
    checkpoints (model + VAE, no text encoders) in a fresh ComfyUI models folder."""
    models = base / "models"
    for family in ("Flux", "FluxSchnell", "SD3"):
        write(models / "diffusion_models" / f"tiny-{family}.safetensors", model_factory.tiny_flow_model_state_dict(family))
    write(models / "vae" / "tiny-vae16.safetensors", model_factory.tiny_vae16_state_dict())
    sd3 = model_factory.tiny_flow_model_state_dict("SD3", prefixed=True)
    sd3.update(model_factory.tiny_vae16_state_dict(prefix="first_stage_model."))
    write(models / "checkpoints" / "tiny-sd3.safetensors", sd3)
    schnell = model_factory.tiny_flow_model_state_dict("FluxSchnell", prefixed=True)
    schnell.update(model_factory.tiny_vae16_state_dict(prefix="vae."))
    write(models / "checkpoints" / "tiny-flux1-schnell.safetensors", schnell)
    return models


def conditioning(family: str, seed: int = 0, **options):
    spec = model_factory.TINY_FLOW_SPECS[family]
    generator = torch.Generator().manual_seed(seed)
    context = torch.randn((1, 7, spec.context_dim), generator=generator)
    pooled = torch.randn((1, spec.pooled_dim), generator=generator)
    return [[context, {"pooled_output": pooled, **options}]]


def sample(model, family, steps=3, cfg=1.0, seed=1, width=64, height=96, positive=None):
    positive = positive or conditioning(family)
    negative = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out(positive)[0]
    latent = EmptySD3LatentImage().generate(width, height, 1)[0]
    with torch.inference_mode():
        return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, seed, steps, cfg, "euler", "simple", positive,
                                                             negative, latent)[0]["samples"]


# --- detection -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("layout", "family", "prediction", "comfy_class"), [
    ("flux-dev", "Flux", "flux", "Flux"),
    ("flux-schnell", "FluxSchnell", "flow", "FluxSchnell"),
    ("sd3-medium", "SD3", "flow", "SD3"),
    ("sd35-large", "SD3", "flow", "SD35"),
    ("sd35-medium", "SD3", "flow", "SD35"),
])
@pytest.mark.parametrize("prefix", ["", "model.diffusion_model."])
def test_full_size_flow_layouts_are_detected_from_their_keys(layout, family, prediction, comfy_class, prefix):
    state_dict = {prefix + key: value for key, value in model_factory.meta_device_flow_keys(layout).items()}
    match = model_detection.model_family(state_dict)
    assert (match.name, match.prediction_type, match.comfy_class, match.exact) == (family, prediction, comfy_class, True)
    assert match.unet_prefix == prefix
    assert model_detection.checkpoint_contents(state_dict).kind == "unet"


def test_full_size_flux_gets_comfyuis_fixed_numbers_from_the_shapes():
    config = model_detection.model_family(model_factory.meta_device_flow_keys("flux-dev")).unet_config
    assert (config["hidden_size"], config["num_heads"], config["head_dim"]) == (3072, 24, 128)
    assert (config["depth"], config["depth_single_blocks"]) == (19, 38)
    assert (config["context_in_dim"], config["vec_in_dim"], config["axes_dim"]) == (4096, 768, [16, 56, 56])
    assert config["guidance_embed"] is True
    assert model_detection.model_family(model_factory.meta_device_flow_keys("flux-schnell")
                                        ).unet_config["guidance_embed"] is False


def test_sd3_sizes_come_from_the_shapes_with_qk_norm_for_sd35_large():
    medium = model_detection.model_family(model_factory.meta_device_flow_keys("sd3-medium")).unet_config
    assert (medium["depth"], medium["num_layers"], medium["hidden_size"]) == (24, 24, 1536)
    assert (medium["pos_embed_max_size"], medium["adm_in_channels"], medium["context_in_dim"]) == (192, 2048, 4096)
    assert medium["qk_norm"] is None and medium["x_block_self_attn_layers"] == []
    large = model_detection.model_family(model_factory.meta_device_flow_keys("sd35-large")).unet_config
    assert (large["depth"], large["num_layers"], large["hidden_size"], large["qk_norm"]) == (38, 38, 2432, "rms_norm")
    medium_x = model_detection.model_family(model_factory.meta_device_flow_keys("sd35-medium")).unet_config
    assert medium_x["x_block_self_attn_layers"] == list(range(13)) and medium_x["pos_embed_max_size"] == 384


@pytest.mark.parametrize("layout", ["flux-dev", "flux-schnell", "sd3-medium", "sd35-large", "sd35-medium"])
def test_full_size_flow_layouts_convert_with_every_key_accounted_for(layout):
    state_dict = model_factory.meta_device_flow_keys(layout)
    match = model_detection.model_family(state_dict)
    network = supported_models.load_diffusion_model(state_dict, match, f"{layout}.safetensors", dtype=None)
    expected = {"flux-dev": 11.90, "flux-schnell": 11.89, "sd3-medium": 2.03, "sd35-large": 8.06,
                "sd35-medium": 2.24}[layout]
    assert sum(parameter.numel() for parameter in network.parameters()) / 1e9 == pytest.approx(expected, abs=0.01)


def test_the_layout_writers_reproduce_the_reference_key_lists():
    flux = json.loads((FIXTURES / "flux_keys.json").read_text())["files"]
    sd3 = json.loads((FIXTURES / "sd3_keys.json").read_text())["files"]

    def listed(entry):
        return {key: tuple(shape) for key, shape, _ in entry["keys"]}

    one_block = {"depth": 1, "depth_single_blocks": 1}
    assert model_factory.flow_layout(dataclasses.replace(model_factory.FLUX_DEV_FULL, **one_block)) == listed(
        flux["flux-dev-model"])
    assert model_factory.flow_layout(dataclasses.replace(model_factory.FLUX_SCHNELL_FULL, **one_block)) == listed(
        flux["flux-schnell-model"])
    assert model_factory.flow_layout(model_factory.MMDiTSpec(128, 2, 64, 2048, 4096)) == listed(sd3["sd3-mmdit"])
    vae = {key: tuple(value.shape) for key, value in model_factory.meta_device_flow_keys("vae16").items()}
    assert vae == listed(flux["vae"])


def test_a_vae16_file_is_a_vae_and_its_config_has_16_latent_channels():
    state_dict = model_factory.meta_device_flow_keys("vae16")
    assert model_detection.checkpoint_contents(state_dict).kind == "vae"
    config = supported_models.vae_diffusers_config(state_dict)
    assert config["latent_channels"] == 16 and config["block_out_channels"] == [128, 256, 512, 512]
    assert (config["use_quant_conv"], config["use_post_quant_conv"]) == (False, False)


# --- loading and sampling ------------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "model_class", "model_type", "shift"), [
    ("Flux", "Flux", ModelType.FLUX, 1.15), ("FluxSchnell", "Flux", ModelType.FLOW, 1.0),
    ("SD3", "SD3", ModelType.FLOW, 3.0),
])
def test_unet_and_vae_loaders_give_a_flow_model_that_samples_to_an_image(flow_models, family, model_class,
                                                                         model_type, shift):
    model = nodes.NODE_CLASS_MAPPINGS["UNETLoader"]().load_unet(f"tiny-{family}.safetensors", "default")[0]
    vae = nodes.NODE_CLASS_MAPPINGS["VAELoader"]().load_vae("tiny-vae16.safetensors")[0]
    assert type(model.model).__name__ == model_class and model.model.model_type == model_type
    assert model.model.model_sampling.shift == shift
    samples = sample(model, family, cfg=4.0 if family == "SD3" else 1.0)
    assert samples.shape == (1, 16, 12, 8) and torch.isfinite(samples).all()
    image = nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, {"samples": samples})[0]
    assert image.shape == (1, 96, 64, 3) and image.std() > 0


def test_sampling_is_seeded_and_dev_reacts_to_guidance_while_schnell_ignores_it(flow_models):
    load = nodes.NODE_CLASS_MAPPINGS["UNETLoader"]().load_unet
    dev, schnell = load("tiny-Flux.safetensors")[0], load("tiny-FluxSchnell.safetensors")[0]
    default = sample(dev, "Flux")
    assert torch.equal(default, sample(dev, "Flux"))
    assert not torch.equal(default, sample(dev, "Flux", seed=2))
    assert torch.equal(default, sample(dev, "Flux", positive=conditioning("Flux", guidance=3.5)))
    assert not torch.allclose(default, sample(dev, "Flux", positive=conditioning("Flux", guidance=2.0)))
    plain = sample(schnell, "FluxSchnell")
    assert torch.equal(plain, sample(schnell, "FluxSchnell", positive=conditioning("FluxSchnell", guidance=2.0)))


def test_flux_patches_odd_and_non_square_latents_and_crops_back():
    match_dict = model_factory.tiny_flow_model_state_dict("FluxSchnell")
    match = model_detection.model_family(match_dict)
    network = supported_models.load_diffusion_model(match_dict, match, "tiny.safetensors")
    model = Flux(network, ModelType.FLOW, family="FluxSchnell",
                 model_config=supported_models.family_config("FluxSchnell"))
    conds = model.extra_conds(torch.randn(1, 5, 32), {"pooled_output": torch.randn(1, 32)}, torch.zeros(1, 16, 7, 9))
    with torch.inference_mode():
        for height, width in ((8, 12), (7, 9)):
            x = torch.randn(1, 16, height, width)
            output = model.apply_model(x, torch.tensor([0.5]), **conds)
            assert output.shape == x.shape and torch.isfinite(output).all()
        # Token (row, column) positions: swapping the latent's axes must change the prediction.
        x = torch.randn(1, 16, 8, 8)
        swapped = model.apply_model(x.transpose(2, 3), torch.tensor([0.5]), **conds).transpose(2, 3)
        assert not torch.allclose(model.apply_model(x, torch.tensor([0.5]), **conds), swapped, atol=1e-4)


def test_all_in_one_sd3_and_flux_checkpoints_give_model_and_vae(flow_models):
    for name, model_class, latent_format in (("tiny-sd3.safetensors", "SD3", "SD3"),
                                             ("tiny-flux1-schnell.safetensors", "Flux", "Flux")):
        model, clip, vae = nodes.NODE_CLASS_MAPPINGS["CheckpointLoaderSimple"]().load_checkpoint(name)
        assert type(model.model).__name__ == model_class
        assert type(model.model.latent_format).__name__ == latent_format
        assert clip is None  # these tiny files hold no text encoders
        assert vae.latent_channels == 16
        image = nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, {"samples": torch.zeros(1, 16, 4, 4)})[0]
        assert image.shape == (1, 32, 32, 3)


@pytest.mark.parametrize("weight_dtype", ["fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"])
def test_fp8_weight_dtypes_store_the_linear_weights_in_fp8_and_still_sample(flow_models, weight_dtype):
    load = nodes.NODE_CLASS_MAPPINGS["UNETLoader"]().load_unet
    model = load("tiny-FluxSchnell.safetensors", weight_dtype)[0]
    storage = comfy.manual_cast.WEIGHT_DTYPES[weight_dtype]
    network = model.model.diffusion_model
    assert network.x_embedder.weight.dtype == storage and network.proj_out.weight.dtype == storage
    assert model.model.get_compute_dtype() == torch.float32
    reference = sample(load("tiny-FluxSchnell.safetensors")[0], "FluxSchnell")
    result = sample(model, "FluxSchnell")
    assert torch.isfinite(result).all()
    relative = (result - reference).abs().max() / reference.abs().max()
    assert 0 < relative < 0.2  # rounded weights: close, not equal


# --- broken files --------------------------------------------------------------------------------------


def test_a_flux_file_missing_a_block_key_names_the_file_the_key_and_its_shape(tmp_path):
    state_dict = model_factory.tiny_flow_model_state_dict("Flux")
    del state_dict["single_blocks.0.linear2.weight"]
    path = write(tmp_path / "broken-flux.safetensors", state_dict)
    expected = r"broken-flux\.safetensors.*missing keys single_blocks\.0\.linear2\.weight \[64, 320\]"
    with pytest.raises(WeightLoadError, match=expected):
        comfy.sd.load_diffusion_model(str(path))


def test_an_unexpected_key_in_a_flux_file_is_an_error(tmp_path):
    state_dict = model_factory.tiny_flow_model_state_dict("FluxSchnell")
    state_dict["double_blocks.0.img_attn.extra.weight"] = torch.zeros(3)
    path = write(tmp_path / "extra.safetensors", state_dict)
    with pytest.raises(WeightLoadError, match=r"extra\.safetensors.*unexpected keys double_blocks\.0\.img_attn\.extra"):
        comfy.sd.load_diffusion_model(str(path))


def test_an_sd3_weight_of_the_wrong_size_names_the_file_and_the_expected_shape(tmp_path):
    state_dict = model_factory.tiny_flow_model_state_dict("SD3")
    state_dict["joint_blocks.0.x_block.mlp.fc2.weight"] = torch.zeros(64, 128)
    path = write(tmp_path / "odd-sd3.safetensors", state_dict)
    with pytest.raises(WeightLoadError, match=r"odd-sd3\.safetensors.*fc2\.weight: file \[64, 128\], expected \[64, 256\]"):
        comfy.sd.load_diffusion_model(str(path))


def test_an_unknown_weight_dtype_is_refused_with_the_choices(flow_models):
    with pytest.raises(ValueError, match="fp8_e4m3fn"):
        comfy.sd.load_diffusion_model(str(flow_models / "diffusion_models" / "tiny-SD3.safetensors"),
                                      weight_dtype="int4")


def test_a_checkpoints_text_encoders_go_to_the_clip_loader_as_its_sd3_or_flux_type(flow_models, monkeypatch):
    calls = []

    def clip_loader(state_dicts, clip_type, sources, embedding_directory, kinds):
        calls.append((clip_type, kinds, sources, [sorted(part)[:1] for part in state_dicts]))
        return "the clip"

    monkeypatch.setattr(comfy.sd, "clip_from_text_encoder_state_dicts", clip_loader)
    clip_l, _ = model_factory.tiny_text_encoder_state_dict("clip_l")
    for family, kinds in (("SD3", ["clip_l", "clip_g"]), ("FluxSchnell", ["clip_l", "t5xxl"])):
        state_dict = model_factory.tiny_flow_model_state_dict(family, prefixed=True)
        for kind in kinds:
            state_dict.update({f"text_encoders.{kind}.transformer.{key}": value.clone() for key, value in clip_l.items()})
        path = write(flow_models / "checkpoints" / f"{family}-with-text.safetensors", state_dict)
        model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(path))
        assert clip == "the clip" and vae is None
    assert [call[:2] for call in calls] == [("sd3", ["clip_l", "clip_g"]), ("flux", ["clip_l", "t5xxl"])]
    assert calls[0][2] == ["SD3-with-text.safetensors (clip_l)", "SD3-with-text.safetensors (clip_g)"]
    assert calls[0][3][0] == ["text_model.embeddings.position_embedding.weight"]  # the prefix is stripped


def test_an_empty_4_channel_latent_is_widened_to_flux_16_channels(flow_models):
    model, _, vae = nodes.NODE_CLASS_MAPPINGS["CheckpointLoaderSimple"]().load_checkpoint("tiny-flux1-schnell.safetensors")
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(64, 32, 1)[0]
    with torch.inference_mode():
        samples = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(
            model, 5, 4, 1.0, "euler", "simple", conditioning("FluxSchnell"), conditioning("FluxSchnell", 1), latent)[0]
    assert samples["samples"].shape == (1, 16, 4, 8)
    assert nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, samples)[0].shape == (1, 32, 64, 3)


def test_t5_weights_are_recognised_alone_and_inside_a_flux_checkpoint():
    listed = json.loads((FIXTURES / "flux_keys.json").read_text())["files"]["t5xxl"]["keys"]
    t5 = {key: torch.empty(shape, device="meta") for key, shape, _ in listed}
    contents = model_detection.checkpoint_contents(t5)
    assert contents.kind == "text_encoder"
    (info,) = contents.text_encoders
    assert (info.kind, info.layout, info.hidden_size, info.num_layers) == ("t5xxl", "t5", 4096, 24)
    checkpoint = {"model.diffusion_model." + key: value for key, value in
                  model_factory.meta_device_flow_keys("flux-schnell").items()}
    checkpoint.update({"text_encoders.t5xxl.transformer." + key: value for key, value in t5.items()})
    contents = model_detection.checkpoint_contents(checkpoint)
    assert contents.kind == "checkpoint" and [info.kind for info in contents.text_encoders] == ["t5xxl"]


def test_a_flux_file_missing_a_whole_block_lists_that_blocks_keys_with_their_shapes(tmp_path):
    spec = dataclasses.replace(model_factory.TINY_FLUX_SCHNELL, depth=2)
    state_dict = {key: torch.zeros(shape, dtype=torch.bfloat16) for key, shape in model_factory.flow_layout(spec).items()
                  if not key.startswith("double_blocks.0.")}
    path = write(tmp_path / "no-block-0.safetensors", state_dict)
    with pytest.raises(WeightLoadError, match=r"no-block-0\.safetensors.*missing keys double_blocks\.0\.img_attn\.norm"
                                              r"\.key_norm\.scale \[32\]"):
        comfy.sd.load_diffusion_model(str(path))


@pytest.mark.parametrize(("family", "recorded"), [("Flux", "flux_dev_default"), ("FluxSchnell", "flux_schnell_default"),
                                                  ("SD3", "sd3_default")])
def test_a_loaded_models_default_schedules_are_comfyuis(flow_models, family, recorded):
    model = nodes.NODE_CLASS_MAPPINGS["UNETLoader"]().load_unet(f"tiny-{family}.safetensors")[0]
    schedules = load_json("flow_sigmas.json")["samplings"][recorded]["schedules"]
    for scheduler, by_steps in schedules.items():
        for steps, by_denoise in by_steps.items():
            got = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), scheduler, int(steps))
            assert_schedule_close(got, by_denoise["1.0"], f"{family} {scheduler} {steps}")


# --- the same transformers in diffusers' layout ----------------------------------------------------------


@pytest.mark.parametrize("layout", ["flux-dev", "flux-schnell", "sd3-medium", "sd35-large", "sd35-medium"])
def test_diffusers_layout_files_are_detected_as_the_same_family_and_sizes(layout):
    original = model_detection.model_family(model_factory.meta_device_flow_keys(layout))
    network = supported_models.load_diffusion_model(model_factory.meta_device_flow_keys(layout), original,
                                                    f"{layout}.safetensors", dtype=None)
    match = model_detection.model_family(network.state_dict())
    assert (match.name, match.comfy_class, match.prediction_type, match.exact) == (
        original.name, original.comfy_class, original.prediction_type, True)
    assert match.unet_config["weights_layout"] == "diffusers"
    strip = {"weights_layout"}
    assert ({k: v for k, v in match.unet_config.items() if k not in strip}
            == {k: v for k, v in original.unet_config.items() if k not in strip})


@pytest.mark.parametrize("family", ["Flux", "SD3"])
def test_unet_loader_loads_a_diffusers_layout_file_to_the_same_model(flow_models, family):
    load = nodes.NODE_CLASS_MAPPINGS["UNETLoader"]().load_unet
    original = load(f"tiny-{family}.safetensors")[0]
    diffusers_weights = {key: value.clone() for key, value in original.model.diffusion_model.state_dict().items()}
    write(flow_models / "diffusion_models" / f"diffusers-{family}.safetensors", diffusers_weights)
    reloaded = load(f"diffusers-{family}.safetensors")[0]
    assert type(reloaded.model) is type(original.model) and reloaded.model.model_type == original.model.model_type
    reloaded_weights = reloaded.model.diffusion_model.state_dict()
    assert all(torch.equal(reloaded_weights[key], value) for key, value in diffusers_weights.items())
    # The same weights, but the fp32 file's are used in place from its memory map, where safetensors aligns them to
    # 8 bytes only: on some CPUs (AMD EPYC here) MKL's matrix products then sum in another order (1e-6 apart).
    torch.testing.assert_close(sample(reloaded, family), sample(original, family), rtol=0, atol=1e-5)


def test_the_seed_workflow_shape_runs_on_an_all_in_one_flux_schnell_file(base):
    """CheckpointLoaderSimple → CLIPTextEncode → EmptyLatentImage → KSampler (4 steps) → VAEDecode, as in the
    user's flux1-schnell example, on a reduced single file holding model, VAE, CLIP-L and T5."""
    write(base / "models" / "checkpoints" / "flux1-schnell.safetensors",
          model_factory.tiny_flux_schnell_checkpoint_state_dict())
    model, clip, vae = nodes.NODE_CLASS_MAPPINGS["CheckpointLoaderSimple"]().load_checkpoint("flux1-schnell.safetensors")
    assert type(model.model).__name__ == "Flux" and model.model.model_type == ModelType.FLOW
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive = encode.encode(clip, "a photo of a cat")[0]
    negative = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out(encode.encode(clip, "")[0])[0]
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(64, 64, 1)[0]
    with torch.inference_mode():
        samples = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, 42, 4, 1.0, "euler", "simple", positive,
                                                                 negative, latent)[0]
        image = nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, samples)[0]
    assert samples["samples"].shape == (1, 16, 8, 8)
    assert image.shape == (1, 64, 64, 3) and torch.isfinite(image).all() and image.std() > 0


@pytest.mark.parametrize("family", ["FluxSchnell", "SD3"])
def test_the_custom_sampling_nodes_give_ksamplers_result_on_flow_models(flow_models, family):
    """SamplerCustomAdvanced with RandomNoise, BasicGuider/CFGGuider, KSamplerSelect and BasicScheduler runs the
    same sampling as KSampler on a flow model (its own flow sigmas and noise scaling)."""
    from comfy_extras import nodes_custom_sampler

    mappings = {**nodes.NODE_CLASS_MAPPINGS, **nodes_custom_sampler.NODE_CLASS_MAPPINGS}
    [model] = mappings["UNETLoader"]().load_unet(f"tiny-{family}.safetensors", "default")
    positive = conditioning(family)
    negative = mappings["ConditioningZeroOut"]().zero_out(positive)[0]
    latent = EmptySD3LatentImage().generate(64, 96, 1)[0]
    with torch.inference_mode():
        expected = mappings["KSampler"]().sample(model, 5, 4, 2.0, "euler", "simple", positive, negative,
                                                 latent)[0]["samples"]
        [sigmas] = mappings["BasicScheduler"]().get_sigmas(model, "simple", 4, 1.0)
        [noise] = mappings["RandomNoise"]().get_noise(5)
        [guider] = mappings["CFGGuider"]().get_guider(model, positive, negative, 2.0)
        [sampler] = mappings["KSamplerSelect"]().get_sampler("euler")
        output, _ = mappings["SamplerCustomAdvanced"]().sample(noise, guider, sampler, sigmas, latent)
    assert torch.allclose(output["samples"], expected, atol=1e-5), (output["samples"] - expected).abs().max()



@pytest.mark.parametrize(("channels", "concat"), [(96, 80), (32, 16)])
def test_flux_fill_and_depth_are_detected_and_read_the_picture_beside_the_latent(channels, concat):
    """FLUX.1 Fill (img_in reads 384 = 96 x 2 x 2 features) and Depth / Canny (128): detected on the full-size
    layout as FLUX.1 with ComfyUI's in_channels and 16 out; a reduced one's conditioning brings `concat` channels
    (the picture's latent, and for Fill the mask folded 8x8)."""
    state_dict = model_factory.meta_device_flow_keys("flux-dev")
    state_dict["img_in.weight"] = torch.empty(3072, channels * 4, device="meta")
    match = model_detection.model_family(state_dict)
    assert (match.name, match.unet_config["in_channels"], match.unet_config["out_channels"]) == ("Flux", channels, 16)

    tiny = {key: value.float() for key, value in model_factory.tiny_flow_model_state_dict("Flux").items()}
    tiny["img_in.weight"] = torch.randn(tiny["img_in.weight"].shape[0], channels * 4) * 0.02
    model = comfy.sd.load_diffusion_model_state_dict(tiny).model
    noise = torch.zeros(1, 16, 4, 6)
    context = torch.zeros(1, 3, model.diffusion_model.config.joint_attention_dim)
    conds = model.extra_conds(context, {"concat_latent_image": torch.ones(1, 16, 4, 6),
                                        "concat_mask": torch.ones(1, 1, 32, 48)}, noise)
    assert conds["c_concat"].shape == (1, concat, 4, 6)
    assert model.apply_model(noise, torch.tensor([0.5]), **conds).shape == noise.shape
