"""Loading LDM-layout UNet and VAE weights into diffusers models (comfy.supported_models)."""

import pytest
import torch
from safetensors.torch import load_file

from comfy import supported_models
from comfy.model_detection import model_family
from comfy.supported_models import WeightLoadError, load_unet, load_vae, unet_diffusers_config, vae_diffusers_config
from tests import model_factory

FAMILIES = list(model_factory.TINY_SPECS)


@pytest.fixture(scope="module")
def tiny():
    return {family: model_factory.tiny_checkpoint_state_dict(family, seed=5) for family in FAMILIES}


def unet_inputs(unet, family, generator):
    """A batch of two: latents [2, C, 16, 16], timesteps, context [2, 7, context_dim], SDXL's pooled + time ids."""
    config = unet.config
    sample = torch.randn(2, config.in_channels, 16, 16, generator=generator)
    context = torch.randn(2, 7, config.cross_attention_dim, generator=generator)
    kwargs = {}
    if config.addition_embed_type == "text_time":
        count = 5 if family == "SDXLRefiner" else 6  # refiner: size, crop, aesthetic score; base: size, crop, target
        pooled = torch.randn(2, config.projection_class_embeddings_input_dim - count * 256, generator=generator)
        kwargs["added_cond_kwargs"] = {"text_embeds": pooled, "time_ids": torch.rand(2, count, generator=generator) * 1024}
    return sample, torch.tensor([10.0, 700.0]), context, kwargs


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_family_unet_round_trips_through_the_ldm_file_with_identical_outputs(tiny, tmp_path, family):
    state, models = tiny[family]
    path = model_factory.write_safetensors(tmp_path / f"{family}.safetensors", state)
    from_file = load_file(str(path))
    unet = load_unet(from_file, model_family(from_file), path.name)
    generator = torch.Generator().manual_seed(0)
    sample, timesteps, context, kwargs = unet_inputs(unet, family, generator)
    with torch.no_grad():
        expected = models.unet(sample, timesteps, context, **kwargs).sample
        actual = unet(sample, timesteps, context, **kwargs).sample
    assert torch.equal(actual, expected)
    assert next(unet.parameters()).dtype == torch.float32


@pytest.mark.parametrize("family", ["SD15", "SDXL"])
def test_tiny_vae_round_trips_through_the_ldm_file_with_identical_outputs(tiny, family):
    state, models = tiny[family]
    scale = supported_models.family_config(family).latent_scale_factor
    vae = load_vae(state, f"{family}.safetensors", scaling_factor=scale)
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        expected_latent = models.vae.encode(image).latent_dist.mean
        latent = vae.encode(image).latent_dist.mean
        assert torch.equal(latent, expected_latent)
        assert torch.equal(vae.decode(latent).sample, models.vae.decode(expected_latent).sample)
    assert vae.config.scaling_factor == scale


def test_vae_only_file_with_bare_or_prefixed_keys_loads():
    for prefixed in (False, True):
        state, reference = model_factory.tiny_vae_state_dict(seed=2, prefixed=prefixed)
        vae = load_vae(state, "vae.safetensors")
        assert all(torch.equal(a, b) for a, b in zip(vae.state_dict().values(), reference.state_dict().values(), strict=True))


def test_unet_only_sdxl_file_loads_from_bare_keys():
    state, models = model_factory.tiny_unet_only_state_dict("SDXL", seed=2)
    unet = load_unet(state, None, "sdxl_unet.safetensors")
    assert unet.config.addition_embed_type == "text_time"
    for (name, value), (ref_name, ref_value) in zip(unet.state_dict().items(), models.unet.state_dict().items(), strict=True):
        assert name == ref_name and torch.equal(value, ref_value)


def test_wrong_shape_key_is_named_with_the_file_in_the_error(tiny):
    state = dict(tiny["SD15"][0])
    key = "model.diffusion_model.input_blocks.1.0.in_layers.2.weight"
    state[key] = torch.zeros(32, 32, 1, 1, dtype=torch.float16)
    with pytest.raises(WeightLoadError, match=rf"broken\.safetensors: .*wrong shapes {key}"):
        load_unet(state, "SD15", "broken.safetensors")


def test_missing_unet_key_is_named_in_the_error(tiny):
    state = {k: v for k, v in tiny["SD15"][0].items() if k != "model.diffusion_model.input_blocks.1.0.in_layers.2.bias"}
    with pytest.raises(WeightLoadError, match=r"partial\.safetensors: .*missing keys .*down_blocks\.0\.resnets\.0\.conv1\.bias"):
        load_unet(state, "SD15", "partial.safetensors")


def test_unexpected_unet_key_is_named_in_the_error(tiny):
    state = dict(tiny["SD15"][0])
    state["model.diffusion_model.input_blocks.1.0.extra_gate.weight"] = torch.ones(3)
    with pytest.raises(WeightLoadError, match=r"extra\.safetensors: .*unexpected keys .*extra_gate\.weight"):
        load_unet(state, "SD15", "extra.safetensors")


def test_missing_and_wrong_shape_vae_keys_are_named_in_the_error(tiny):
    state = {k: v for k, v in tiny["SD15"][0].items() if k != "first_stage_model.decoder.mid.attn_1.q.bias"}
    with pytest.raises(WeightLoadError, match=r"vae\.safetensors: .*missing keys .*decoder\.mid_block\.attentions\.0\.to_q\.bias"):
        load_vae(state, "vae.safetensors")
    state = dict(tiny["SD15"][0])
    state["first_stage_model.encoder.conv_out.weight"] = torch.zeros(8, 64, 1, 1)
    with pytest.raises(WeightLoadError, match=r"wrong shapes encoder\.conv_out\.weight"):
        load_vae(state, "vae.safetensors")


def test_requested_family_that_disagrees_with_the_weights_is_refused(tiny):
    with pytest.raises(WeightLoadError, match="is SD15, not SDXL"):
        load_unet(tiny["SD15"][0], "SDXL", "sd15.safetensors")


def test_full_size_sd15_and_sdxl_convert_with_every_key_and_shape_matching_on_the_meta_device():
    for name in ("SD15", "SDXL", "SDXL_unet", "SD20", "SDXLRefiner"):
        layout = model_factory.meta_device_checkpoint_keys(name)
        unet = load_unet(layout, None, name, dtype=None)  # raises on any missing/unexpected/shape mismatch
        assert next(unet.parameters()).device.type == "meta"
        if not name.endswith("_unet"):
            assert load_vae(layout, name, dtype=None).config.block_out_channels == [128, 256, 512, 512]


def test_full_size_diffusers_configs_match_the_published_family_configs():
    sd15 = unet_diffusers_config(model_family(model_factory.meta_device_checkpoint_keys("SD15_unet")).unet_config, "SD15")
    assert sd15["block_out_channels"] == [320, 640, 1280, 1280] and sd15["attention_head_dim"] == 8
    assert sd15["down_block_types"] == ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"]
    assert sd15["cross_attention_dim"] == 768 and sd15["use_linear_projection"] is False
    sdxl = unet_diffusers_config(model_family(model_factory.meta_device_checkpoint_keys("SDXL_unet")).unet_config, "SDXL")
    assert sdxl["transformer_layers_per_block"] == [1, 2, 10]
    assert sdxl["attention_head_dim"] == [5, 10, 20]
    assert (sdxl["addition_embed_type"], sdxl["addition_time_embed_dim"]) == ("text_time", 256)
    assert sdxl["projection_class_embeddings_input_dim"] == 2816
    vae = vae_diffusers_config(model_factory.meta_device_checkpoint_keys("SD15"), scaling_factor=0.18215)
    assert (vae["block_out_channels"], vae["layers_per_block"], vae["latent_channels"]) == ([128, 256, 512, 512], 2, 4)


def test_family_data_states_latent_scale_prediction_type_and_text_encoders():
    configs = supported_models.FAMILY_CONFIGS
    assert configs["SD15"].latent_scale_factor == 0.18215 and configs["SDXL"].latent_scale_factor == 0.13025
    assert configs["SD21"].prediction_type == "v_prediction" and configs["SD20"].prediction_type == "eps"
    assert [slot.kind for slot in configs["SDXL"].text_encoders] == ["clip_g", "clip_l"]
    assert [slot.kind for slot in configs["SDXLRefiner"].text_encoders] == ["clip_g"]
    assert configs["SD15"].clip_skip_default == -1 and configs["SDXL"].clip_skip_default == -2


def test_kohya_sd1_lora_names_existing_modules_with_down_up_and_alpha():
    lora = model_factory.tiny_lora_sd1_state_dict(seed=0, rank=4)
    models = model_factory.build_tiny_models("SD15", seed=0)
    unet_modules = {"lora_unet_" + name.replace(".", "_"): module for name, module in models.unet.named_modules()}
    te_modules = {"lora_te_text_model_" + name.removeprefix("text_model.").replace(".", "_"): module
                  for name, module in models.text_encoders["clip_l"].named_modules()}
    names = {key.split(".")[0] for key in lora}
    assert any(name.startswith("lora_te_") for name in names) and any(name.endswith("_attn2_to_k") for name in names)
    for name in names:
        module = unet_modules.get(name) or te_modules[name]
        down, up = lora[f"{name}.lora_down.weight"], lora[f"{name}.lora_up.weight"]
        assert down.shape[0] == 4 and up.shape[1] == 4
        assert (up.shape[0], down.shape[1]) == tuple(module.weight.shape[:2])
        assert lora[f"{name}.alpha"].ndim == 0


def test_tiny_files_are_deterministic_from_the_seed_and_small():
    first, _ = model_factory.tiny_checkpoint_state_dict("SDXL", seed=9)
    second, _ = model_factory.tiny_checkpoint_state_dict("SDXL", seed=9)
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert sum(value.numel() * value.element_size() for value in first.values()) < 10_000_000


def test_missing_sdxl_label_embedding_half_is_named_in_the_error(tiny):
    state = {k: v for k, v in tiny["SDXL"][0].items() if k != "model.diffusion_model.label_emb.0.2.weight"}
    with pytest.raises(WeightLoadError, match=r"sdxl\.safetensors: .*label_emb\.0\.2\.weight"):
        load_unet(state, "SDXL", "sdxl.safetensors")


def _reload_text_encoder(spec, state, reference):
    """Read one tiny text encoder back from its LDM keys with diffusers' own converters."""
    from diffusers.loaders.single_file_utils import convert_ldm_clip_checkpoint, convert_open_clip_checkpoint

    model = type(reference)(reference.config)
    if spec.layout == "hf_clip":
        weights = convert_ldm_clip_checkpoint(state, remove_prefix=spec.prefix)
        if not any(key.startswith("text_model.") for key in model.state_dict()):
            weights = {key.removeprefix("text_model."): value for key, value in weights.items()}
    else:
        weights = convert_open_clip_checkpoint(model, state, prefix=spec.prefix)
    result = model.load_state_dict({key: value.float() if value.is_floating_point() else value
                                    for key, value in weights.items()}, strict=False)
    # diffusers skips SD2's text_projection on purpose (SD2 conditions on hidden states only).
    ignored = ["text_projection.weight"] if spec.prefix == "cond_stage_model.model." else []
    assert result.missing_keys == ignored and set(result.unexpected_keys) <= {"embeddings.position_ids",
                                                                          "text_model.embeddings.position_ids"}
    return model.eval()


@pytest.mark.parametrize("family", ["SD15", "SD20", "SDXL", "SDXLRefiner"])
def test_tiny_text_encoders_read_back_with_diffusers_converters_give_identical_hidden_states(tiny, family):
    state, models = tiny[family]
    tokens = torch.tensor([[49406, 320, 1125, 539, 320, 2368, 49407] + [49407] * 70])
    for spec in models.text_encoder_specs:
        reference = models.text_encoders[spec.kind]
        reloaded = _reload_text_encoder(spec, state, reference)
        with torch.no_grad():
            expected = reference(tokens, output_hidden_states=True)
            actual = reloaded(tokens, output_hidden_states=True)
        assert torch.equal(actual.hidden_states[-2], expected.hidden_states[-2])
        assert torch.equal(actual.last_hidden_state, expected.last_hidden_state)
        if spec.layout == "open_clip" and spec.kind == "clip_g":
            assert torch.equal(actual.text_embeds, expected.text_embeds)
