"""comfy_extras.nodes_clip_sdxl: SDXL prompts per encoder, with the size, crop and aesthetic-score options the
SDXL models read."""

import pytest
import torch

import comfy.sd
import nodes
from comfy_extras.nodes_clip_sdxl import CLIPTextEncodeSDXL, CLIPTextEncodeSDXLRefiner
from tests import model_factory

LONG_TEXT = " ".join(["a red circle on a blue square"] * 15)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sdxl-text")
    models = {}
    for family in ("SDXL", "SDXLRefiner", "SD15"):
        path = folder / f"{family}.safetensors"
        model_factory.write_tiny_checkpoint(path, family, 0)
        models[family] = comfy.sd.load_checkpoint_guess_config(str(path))[:2]
    return models


def encode_sdxl(clip, text_g="a red circle", text_l="a red circle", **sizes):
    values = {"width": 1024, "height": 768, "crop_w": 16, "crop_h": 8, "target_width": 896, "target_height": 640}
    values.update(sizes)
    return CLIPTextEncodeSDXL.execute(clip, text_g=text_g, text_l=text_l, **values)[0]


def test_sdxl_encode_carries_pooled_output_and_the_size_options(loaded):
    [[cond, options]] = encode_sdxl(loaded["SDXL"][1])
    assert cond.shape[:2] == (1, 77)
    assert options["pooled_output"].shape[0] == 1
    assert {k: options[k] for k in ("width", "height", "crop_w", "crop_h", "target_width", "target_height")} == {
        "width": 1024, "height": 768, "crop_w": 16, "crop_h": 8, "target_width": 896, "target_height": 640}


def test_sdxl_encode_with_the_same_text_twice_equals_clip_text_encode(loaded):
    clip = loaded["SDXL"][1]
    [[cond, options]] = encode_sdxl(clip)
    [[plain, plain_options]] = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]().encode(clip, "a red circle")[0]
    assert torch.equal(cond, plain) and torch.equal(options["pooled_output"], plain_options["pooled_output"])


def test_sdxl_encode_sends_text_g_and_text_l_to_their_own_encoders(loaded):
    clip = loaded["SDXL"][1]
    [[base, _]] = encode_sdxl(clip)
    [[other_l, options_l]] = encode_sdxl(clip, text_l="a green tree")
    [[other_g, options_g]] = encode_sdxl(clip, text_g="a green tree")
    l_width = model_factory.SDXL_CLIP_L.hidden_size
    # CLIP-L's features come first, bigG's after them; the pooled output is bigG's.
    assert torch.equal(other_l[..., l_width:], base[..., l_width:]) and not torch.equal(other_l, base)
    assert torch.equal(other_g[..., :l_width], base[..., :l_width]) and not torch.equal(other_g, base)
    assert not torch.equal(options_g["pooled_output"], options_l["pooled_output"])


@pytest.mark.parametrize("long_side", ["text_g", "text_l"])
def test_sdxl_encode_pads_the_shorter_prompt_with_empty_chunks(loaded, long_side):
    clip = loaded["SDXL"][1]
    [[cond, _]] = encode_sdxl(clip, **{long_side: LONG_TEXT})
    assert cond.shape[1] == 154


def test_sdxl_size_options_reach_the_models_time_ids(loaded):
    model = loaded["SDXL"][0].model
    [[cond, options]] = encode_sdxl(loaded["SDXL"][1])
    conds = model.extra_conds(cond, options, torch.zeros(1, 4, 8, 8))
    assert conds["time_ids"].tolist() == [[768.0, 1024.0, 8.0, 16.0, 640.0, 896.0]]
    assert torch.equal(conds["text_embeds"], options["pooled_output"])


def test_refiner_encode_carries_the_aesthetic_score_into_the_time_ids(loaded):
    patcher, clip = loaded["SDXLRefiner"]
    model = patcher.model
    [[cond, options]] = CLIPTextEncodeSDXLRefiner.execute(clip, ascore=2.5, width=640, height=512, text="a cat")[0]
    assert (options["aesthetic_score"], options["width"], options["height"]) == (2.5, 640, 512)
    assert options["pooled_output"] is not None
    conds = model.extra_conds(cond, options, torch.zeros(1, 4, 8, 8))
    assert conds["time_ids"].tolist() == [[512.0, 640.0, 0.0, 0.0, 2.5]]


def test_sdxl_encode_refuses_a_clip_without_both_sdxl_encoders(loaded):
    with pytest.raises(ValueError, match="CLIPTextEncodeSDXL needs an SDXL base text encoder"):
        encode_sdxl(loaded["SD15"][1])


def test_sdxl_text_nodes_have_comfyui_inputs_in_order():
    assert list(CLIPTextEncodeSDXL.INPUT_TYPES()["required"]) == [
        "clip", "width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g", "text_l"]
    assert list(CLIPTextEncodeSDXLRefiner.INPUT_TYPES()["required"]) == ["ascore", "width", "height", "text", "clip"]
    assert CLIPTextEncodeSDXL.CATEGORY == "advanced/conditioning"
