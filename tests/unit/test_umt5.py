"""Wan's UMT5-XXL text encoder: ComfyUI's tokenization (token ids) with the file's SentencePiece model, CLIPLoader type `wan` (bare and prefixed files, fp16 and scaled_fp8), ComfyUI's
encoder outputs on reduced files, full-size layout detection on meta tensors, and the errors for wrong files.

Reference numbers: tests/fixtures/comfyui_video/umt5/, recorded with tools/oracle/record_umt5.py from the
files tests/fixtures/comfyui_video/make_umt5_files.py writes. Outputs are compared within 1e-4 of their largest
absolute value (float32).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import comfy.sd
import nodes
from comfy import model_detection
from comfy.clip_object import CLIP, clip_from_text_encoder_state_dicts, clip_target_for
from comfy.text_encoders import t5, umt5
from comfy.text_encoders.clip_configs import TextEncoderLoadError
from tests import model_factory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_video"
RECORDED = json.loads((FIXTURES / "umt5" / "tokens.json").read_text(encoding="utf-8"))
RELATIVE_TOLERANCE = 1e-4


def _fixture_module():
    spec = importlib.util.spec_from_file_location("make_umt5_files", FIXTURES / "make_umt5_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_umt5_files = _fixture_module()


@pytest.fixture(scope="module")
def umt5_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("umt5")
    (folder / "embeddings").mkdir()
    return folder, make_umt5_files.write_files(folder)


@pytest.fixture(scope="module")
def wan_clips(umt5_files):
    """CLIPLoader type `wan`'s CLIP for each reduced file (`comfy.sd.load_clip`, what the node calls)."""
    folder, files = umt5_files
    return {name: comfy.sd.load_clip([str(path)], embedding_directory=str(folder / "embeddings"), clip_type="wan")
            for name, path in files.items()}


def _close(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return ((actual - expected).abs().max() / expected.abs().max()).item()


# --- ComfyUI's tokenization rules -------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(RECORDED["prompts"]))
def test_wan_prompts_tokenize_to_comfyuis_ids_and_weights(wan_clips, case):
    clip = wan_clips["umt5_reduced_fp16.safetensors"]
    tokens = clip.tokenize(RECORDED["prompts"][case])
    assert list(tokens) == ["umt5xxl"] and len(tokens["umt5xxl"]) == 1
    assert [[token, weight] for token, weight in tokens["umt5xxl"][0]] == RECORDED["tokens"][case]


def test_a_prompt_pads_to_512_and_a_long_one_is_one_longer_sequence(wan_clips):
    clip = wan_clips["umt5_reduced_fp16.safetensors"]
    assert len(clip.tokenize("a cat")["umt5xxl"][0]) == 512
    assert len(clip.tokenize(RECORDED["prompts"]["long"])["umt5xxl"][0]) > 512
    clip.set_tokenizer_option("umt5xxl_min_length", 16)
    try:
        assert [token for token, _ in clip.tokenize("a cat")["umt5xxl"][0]] == [260, 274, 1] + [0] * 13
    finally:
        clip.tokenizer_options.clear()


def test_the_tokenizer_keeps_the_files_sentencepiece_model_as_its_state():
    proto = make_umt5_files.spiece_model_bytes("nfkc")
    tokenizer = umt5.WanT5Tokenizer(tokenizer_data={"spiece_model": torch.frombuffer(bytearray(proto), dtype=torch.uint8)})
    assert tokenizer.state_dict()["spiece_model"].numpy().tobytes() == proto
    with pytest.raises(TextEncoderLoadError, match="spiece_model"):
        umt5.WanT5Tokenizer(tokenizer_data={})


# --- the encoder against ComfyUI --------------------------------------------------------------------------


def _recorded_cases():
    recorded = load_file(str(FIXTURES / "umt5" / "outputs.safetensors"))
    return sorted(key for key in recorded if not key.endswith("/length"))


@pytest.mark.parametrize("key", _recorded_cases())
def test_the_encoder_reproduces_comfyuis_wan_conditioning(wan_clips, key):
    """fp16 and scaled_fp8 files, plain / weighted / unicode / >512-token prompts and CLIPSetLastLayer -2: the
    positions up to the end token (+8) within 1e-4 of the largest value, every later position exactly zero, the
    same length, no pooled output."""
    recorded = load_file(str(FIXTURES / "umt5" / "outputs.safetensors"))
    name, case, *layer = key.split("/")
    clip = wan_clips[name].clone()
    if layer:
        clip.clip_layer(int(layer[0].removeprefix("layer")))
    cond, pooled = clip.encode_from_tokens(clip.tokenize(RECORDED["prompts"][case]), return_pooled=True)
    expected = recorded[key]
    kept = expected.shape[1]
    assert pooled is None
    assert cond.shape == (1, int(recorded[f"{key}/length"]), make_umt5_files.CONFIG["d_model"])
    assert _close(cond[:, :kept], expected) < RELATIVE_TOLERANCE
    assert cond[:, kept:].count_nonzero() == 0


def test_weights_stay_in_the_files_dtype_and_cast_per_layer(wan_clips):
    for name, dtype in (("umt5_reduced_fp16.safetensors", torch.float16),
                        ("umt5_reduced_scaled_fp8.safetensors", torch.float8_e4m3fn)):
        encoder = wan_clips[name].cond_stage_model.umt5xxl.transformer
        block = encoder.encoder.block[1]
        assert block.layer[0].SelfAttention.q.weight.dtype == dtype
        assert block.layer[1].DenseReluDense.wo.weight.dtype == dtype
        assert encoder.shared.weight.dtype == torch.float16
        assert block.layer[0].SelfAttention.relative_attention_bias.weight.dtype == torch.float32
    scaled = wan_clips["umt5_reduced_scaled_fp8.safetensors"].cond_stage_model.umt5xxl.transformer
    assert scaled.encoder.block[0].layer[0].SelfAttention.q.scale_weight.item() > 0


def test_clip_loader_type_wan_builds_it_and_clip_text_encode_gives_its_conditioning(base, umt5_files):
    folder = base / "models" / "text_encoders"
    folder.mkdir(parents=True)
    source = umt5_files[1]["umt5_reduced_fp16.safetensors"]
    (folder / source.name).write_bytes(source.read_bytes())
    clip, = nodes.NODE_CLASS_MAPPINGS["CLIPLoader"]().load_clip(source.name, type="wan")
    (cond, extra), = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]().encode(clip, RECORDED["prompts"]["weighted"])[0]
    expected = load_file(str(FIXTURES / "umt5" / "outputs.safetensors"))["umt5_reduced_fp16.safetensors/weighted"]
    assert extra["pooled_output"] is None
    assert _close(cond[:, :expected.shape[1]], expected) < RELATIVE_TOLERANCE


def test_a_file_under_comfyuis_text_encoder_prefix_loads_the_same(umt5_files, wan_clips):
    sd = load_file(str(umt5_files[1]["umt5_reduced_fp16.safetensors"]))
    prefixed = {f"text_encoders.umt5xxl.transformer.{key}": value for key, value in sd.items()}
    clip = clip_from_text_encoder_state_dicts([prefixed], clip_type="wan", sources=["prefixed.safetensors"])
    tokens = clip.tokenize(RECORDED["prompts"]["plain"])
    reference = wan_clips["umt5_reduced_fp16.safetensors"]
    assert torch.equal(clip.encode_from_tokens(tokens), reference.encode_from_tokens(tokens))


def test_the_clips_state_dict_uses_comfyuis_names_and_loads_back(wan_clips):
    clip = wan_clips["umt5_reduced_scaled_fp8.safetensors"]
    state = clip.get_sd()
    assert all(key.startswith("umt5xxl.transformer.") for key in state)
    assert "umt5xxl.transformer.encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight" in state
    target = clip_target_for({"umt5xxl": make_umt5_files.umt5_state_dict("scaled_fp8")}, clip_type="wan")
    fresh = CLIP(target, tokenizer_data=target.tokenizer_data)
    result = fresh.load_sd(state, full_model=True)
    assert not result.missing_keys and not result.unexpected_keys
    tokens = clip.tokenize(RECORDED["prompts"]["weighted"])
    assert torch.equal(fresh.encode_from_tokens(tokens), clip.encode_from_tokens(tokens))


# --- detection and errors ---------------------------------------------------------------------------------


def _full_size_layout() -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        model = umt5.UMT5XXLModel().transformer
    return {key: value for key, value in model.state_dict().items() if key != t5.TIED_EMBEDDING_KEY}


def test_a_full_size_umt5_xxl_layout_is_recognised_and_sized_from_meta_tensors():
    layout = _full_size_layout()
    assert len([key for key in layout if key.endswith("relative_attention_bias.weight")]) == 24
    config = umt5.umt5_config_from_state_dict(layout)
    assert (config.d_model, config.num_layers, config.num_heads, config.d_kv, config.d_ff, config.vocab_size,
            config.relative_attention_num_buckets, config.is_gated_act) == (4096, 24, 64, 64, 10240, 256384, 32, True)
    assert umt5.is_umt5_state_dict(layout)
    (info,) = model_detection.text_encoders_in(layout)
    assert (info.kind, info.layout, info.hidden_size, info.num_layers) == ("umt5xxl", "umt5", 4096, 24)
    with torch.device("meta"):
        t5_layout = t5.empty_t5_model(t5.t5_xxl_config()).state_dict()
    assert not umt5.is_umt5_state_dict(t5_layout)
    assert model_detection.text_encoders_in(t5_layout)[0].kind == "t5xxl"


def test_wrong_files_in_clip_loader_type_wan_name_the_file_and_what_wan_expects():
    clip_l, _ = model_factory.tiny_text_encoder_state_dict("clip_l")
    with pytest.raises(TextEncoderLoadError, match=r"clip_l\.safetensors is a CLIP text encoder.*UMT5-XXL"):
        clip_from_text_encoder_state_dicts([clip_l], clip_type="wan", sources=["clip_l.safetensors"])
    t5_file, _ = model_factory.tiny_t5_state_dict()
    with pytest.raises(TextEncoderLoadError, match=r"t5xxl\.safetensors is a T5 text encoder .*T5 v1\.1.*UMT5-XXL"):
        clip_from_text_encoder_state_dicts([t5_file], clip_type="wan", sources=["t5xxl.safetensors"])
    no_tokenizer = {key: value for key, value in make_umt5_files.umt5_state_dict().items() if key != "spiece_model"}
    with pytest.raises(TextEncoderLoadError, match=r"umt5\.safetensors has no tokenizer.*'spiece_model'"):
        clip_from_text_encoder_state_dicts([no_tokenizer], clip_type="wan", sources=["umt5.safetensors"])


def test_a_umt5_file_under_another_clip_type_asks_for_type_wan():
    with pytest.raises(TextEncoderLoadError, match=r"umt5\.safetensors is a UMT5-XXL .*type wan"):
        clip_from_text_encoder_state_dicts([make_umt5_files.umt5_state_dict()], clip_type="sd3",
                                           sources=["umt5.safetensors"])
