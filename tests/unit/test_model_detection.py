"""Family and file-kind detection from key names and shapes (comfy.model_detection)."""

import json

import pytest
import torch

from comfy import model_detection, supported_models
from comfy.model_detection import ModelDetectionError, checkpoint_contents, detect_unet_config, model_family
from tests import model_factory
from tests.conftest import FIXTURES

TINY_FAMILIES = {
    "SD15": ("SD15", "eps"),
    "SD15_inpaint": ("SD15", "eps"),
    "SD20": ("SD20", "eps"),
    "SD21": ("SD20", "v_prediction"),
    "SDXL": ("SDXL", "eps"),
    "SDXLRefiner": ("SDXLRefiner", "eps"),
}


@pytest.fixture(scope="module")
def tiny_checkpoints():
    return {family: model_factory.tiny_checkpoint_state_dict(family, seed=3)[0] for family in TINY_FAMILIES}


@pytest.mark.parametrize("family", list(TINY_FAMILIES))
def test_tiny_checkpoint_is_detected_as_its_family_with_its_prediction_type(tiny_checkpoints, family):
    match = model_family(tiny_checkpoints[family])
    comfy_class, prediction_type = TINY_FAMILIES[family]
    assert (match.name, match.comfy_class, match.prediction_type) == (family, comfy_class, prediction_type)
    assert match.exact is False  # reduced sizes match on structure, not on ComfyUI's full-size numbers
    assert match.unet_prefix == "model.diffusion_model."
    assert checkpoint_contents(tiny_checkpoints[family]).kind == "checkpoint"


def test_sd2_v_prediction_is_decided_by_the_std_of_output_block_11_norm1_bias(tiny_checkpoints):
    key = "model.diffusion_model." + model_detection.SD2_V_PREDICTION_STD_KEY
    eps_state = tiny_checkpoints["SD20"]
    assert torch.std(eps_state[key].float(), unbiased=False) < 0.09
    v_state = dict(eps_state)
    v_state[key] = torch.linspace(-0.5, 0.5, eps_state[key].numel(), dtype=torch.float16)  # std ~0.29
    assert model_family(v_state).name == "SD21"
    without_probe = {k: v for k, v in tiny_checkpoints["SD21"].items() if not k.startswith(key.rsplit(".", 1)[0])}
    # ComfyUI falls back to eps when the probe tensor is absent; the rest of the UNet is still SD2.
    assert model_family(without_probe).prediction_type == "eps"


def test_sd2_inpainting_unet_is_never_v_prediction(tiny_checkpoints):
    state = dict(tiny_checkpoints["SD21"])
    weight = state["model.diffusion_model.input_blocks.0.0.weight"]
    state["model.diffusion_model.input_blocks.0.0.weight"] = torch.zeros(weight.shape[0], 9, 3, 3, dtype=weight.dtype)
    match = model_family(state)
    assert (match.name, match.prediction_type, match.unet_config["in_channels"]) == ("SD20", "eps", 9)


def test_sdxl_checkpoint_with_v_pred_key_is_v_prediction():
    state, _ = model_factory.tiny_checkpoint_state_dict("SDXL", seed=0, v_pred_key=True)
    match = model_family(state)
    assert (match.name, match.prediction_type, match.zero_terminal_snr) == ("SDXL", "v_prediction", False)
    state["ztsnr"] = torch.zeros(0)
    assert model_family(state).zero_terminal_snr is True


def test_sd15_inpaint_is_told_apart_by_nine_input_channels(tiny_checkpoints):
    assert detect_unet_config(tiny_checkpoints["SD15_inpaint"], "model.diffusion_model.")["in_channels"] == 9
    assert detect_unet_config(tiny_checkpoints["SD15"], "model.diffusion_model.")["in_channels"] == 4


def test_tiny_checkpoints_report_their_text_encoders_kinds_prefixes_and_hidden_sizes(tiny_checkpoints):
    def summary(family):
        return [(info.kind, info.prefix, info.layout, info.hidden_size)
                for info in supported_models.text_encoder_slots(tiny_checkpoints[family])]

    assert summary("SD15") == [("clip_l", "cond_stage_model.transformer.", "hf_clip", 32)]
    assert summary("SD20") == [("clip_h", "cond_stage_model.model.", "open_clip", 32)]
    assert summary("SDXL") == [("clip_l", "conditioner.embedders.0.transformer.", "hf_clip", 16),
                               ("clip_g", "conditioner.embedders.1.model.", "open_clip", 32)]
    assert summary("SDXLRefiner") == [("clip_g", "conditioner.embedders.0.model.", "open_clip", 32)]


def test_full_size_sd15_layout_is_sd15_with_the_ldm_unet_config():
    layout = model_factory.meta_device_checkpoint_keys("SD15")
    match = model_family(layout)
    assert (match.name, match.exact, match.prediction_type) == ("SD15", True, "eps")
    config = match.unet_config
    assert config["model_channels"] == 320 and config["channel_mult"] == [1, 2, 4, 4]
    assert config["num_res_blocks"] == [2, 2, 2, 2]
    assert config["transformer_depth"] == [1, 1, 1, 1, 1, 1, 0, 0]
    assert config["transformer_depth_output"] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert config["transformer_depth_middle"] == 1
    assert (config["context_dim"], config["use_linear_in_transformer"], config["adm_in_channels"]) == (768, False, None)


def test_full_size_sdxl_checkpoint_and_unet_only_file_are_both_sdxl():
    for name, kind, prefix in (("SDXL", "checkpoint", "model.diffusion_model."), ("SDXL_unet", "unet", "")):
        layout = model_factory.meta_device_checkpoint_keys(name)
        match = model_family(layout)
        assert (match.name, match.exact, match.unet_prefix) == ("SDXL", True, prefix)
        assert match.unet_config["transformer_depth"] == [0, 0, 2, 2, 10, 10]
        assert match.unet_config["adm_in_channels"] == 2816
        assert checkpoint_contents(layout).kind == kind
    assert len(model_factory.meta_device_checkpoint_keys("SDXL_unet")) == 1680


def test_full_size_sd2_and_refiner_layouts_match_their_comfyui_classes():
    assert model_family(model_factory.meta_device_checkpoint_keys("SD20")).name == "SD20"
    refiner = model_family(model_factory.meta_device_checkpoint_keys("SDXLRefiner"))
    assert (refiner.name, refiner.exact, refiner.unet_config["adm_in_channels"]) == ("SDXLRefiner", True, 2560)


def test_reference_sd15_key_list_is_detected_as_sd15_and_matches_the_meta_layout():
    keys = json.loads((FIXTURES / "sd15_keys.json").read_text())["keys"]
    state = {name: torch.empty(shape, device="meta") for name, shape, _dtype in keys}
    match = model_family(state)
    assert (match.name, match.exact, match.prediction_type) == ("SD15", True, "eps")
    contents = checkpoint_contents(state)
    assert (contents.kind, contents.vae_prefix) == ("checkpoint", "first_stage_model.")
    assert [(info.kind, info.hidden_size, info.num_layers) for info in contents.text_encoders] == [("clip_l", 768, 12)]
    layout = model_factory.meta_device_checkpoint_keys("SD15")
    assert {key: tuple(value.shape) for key, value in layout.items()} == {name: tuple(shape) for name, shape, _ in keys}


def test_unet_only_vae_only_and_text_encoder_only_files_are_classified():
    bare_unet, _ = model_factory.tiny_unet_only_state_dict("SDXL", seed=1)
    prefixed_unet, _ = model_factory.tiny_unet_only_state_dict("SD15", seed=1, prefixed=True)
    bare_vae, _ = model_factory.tiny_vae_state_dict(seed=1)
    prefixed_vae, _ = model_factory.tiny_vae_state_dict(seed=1, prefixed=True)
    assert checkpoint_contents(bare_unet) == model_detection.CheckpointContents("unet", "", None, ())
    assert model_family(bare_unet).name == "SDXL"
    assert checkpoint_contents(prefixed_unet).kind == "unet" and model_family(prefixed_unet).name == "SD15"
    assert checkpoint_contents(bare_vae) == model_detection.CheckpointContents("vae", None, "", ())
    assert checkpoint_contents(prefixed_vae).vae_prefix == "first_stage_model."
    for kind, layout, hidden in (("clip_l", "hf_clip", 32), ("clip_h", "open_clip", 32), ("clip_g", "open_clip", 32)):
        state, _ = model_factory.tiny_text_encoder_state_dict(kind, seed=1)
        contents = checkpoint_contents(state)
        assert contents.kind == "text_encoder"
        (info,) = contents.text_encoders
        assert (info.prefix, info.layout, info.hidden_size, info.num_layers) == ("", layout, hidden, 3)
    # Full-size bare OpenCLIP files are named by width: 1024 is ViT-H, 1280 is bigG.
    full_g = {key.removeprefix("conditioner.embedders.1.model."): value
              for key, value in model_factory.meta_device_checkpoint_keys("SDXL").items()
              if key.startswith("conditioner.embedders.1.model.")}
    assert checkpoint_contents(full_g).text_encoders[0].kind == "clip_g"


def test_unknown_layout_is_refused_naming_the_first_keys():
    state = {"blocks.0.attn.weight": torch.zeros(2, 2), "head.bias": torch.zeros(2)}
    with pytest.raises(ModelDetectionError, match="mystery.bin: .*blocks.0.attn.weight"):
        checkpoint_contents(state, source_name="mystery.bin")
    with pytest.raises(ModelDetectionError, match="head.bias"):
        model_family(state)


def test_empty_state_dict_is_refused_as_not_a_model_file():
    with pytest.raises(ModelDetectionError, match="empty"):
        checkpoint_contents({})


def test_truncated_unet_is_refused_naming_the_missing_key(tiny_checkpoints):
    truncated = {key: value for key, value in tiny_checkpoints["SD15"].items() if "out.2." not in key}
    with pytest.raises(ModelDetectionError, match="out.2.weight"):
        model_family(truncated)


def test_unet_of_no_known_family_is_refused_with_its_decisive_numbers(tiny_checkpoints):
    # An SD1-style (conv proj_in) UNet with an SDXL-style label embedding is no known family.
    state = dict(tiny_checkpoints["SD15"])
    state["model.diffusion_model.label_emb.0.0.weight"] = torch.zeros(128, 1600)
    with pytest.raises(ModelDetectionError, match="Could not detect model type of: odd.safetensors.*adm_in_channels=1600"):
        model_family(state, source_name="odd.safetensors")


def test_sd2_unclip_label_embedding_is_not_mistaken_for_sdxl():
    layout = model_factory.meta_device_checkpoint_keys("SD20_unet")
    layout["label_emb.0.0.weight"] = torch.empty(1280, 2048, device="meta")
    with pytest.raises(ModelDetectionError, match="adm_in_channels=2048"):
        model_family(layout)


def test_instruct_pix2pix_is_the_8_channel_variant_and_other_channel_counts_are_refused_clearly(tiny_checkpoints):
    state = dict(tiny_checkpoints["SD15"])
    weight = state["model.diffusion_model.input_blocks.0.0.weight"]
    state["model.diffusion_model.input_blocks.0.0.weight"] = torch.zeros(weight.shape[0], 8, 3, 3)
    assert model_family(state).name == "SD15_instructpix2pix"
    state["model.diffusion_model.input_blocks.0.0.weight"] = torch.zeros(weight.shape[0], 7, 3, 3)
    with pytest.raises(ModelDetectionError, match="7 input channels"):
        model_family(state)
