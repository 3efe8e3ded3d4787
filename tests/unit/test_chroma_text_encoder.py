"""Chroma's CLIP (CLIPLoader type chroma, comfy.text_encoders.chroma_t5) and T5TokenizerOptions: token ids and
weights equal ComfyUI 0.3.64's PixArt T5 tokenizer's (tests/fixtures/comfyui_image/chroma/tokens.json, recorded
by tools/oracle/record_chroma_tokens.py), and the conditioning is T5's output over exactly those tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from comfy.clip_object import clip_from_text_encoder_state_dicts
from comfy.text_encoders.clip_configs import TextEncoderLoadError
from comfy_extras.nodes_cond import T5TokenizerOptions
from tests import model_factory

RECORDED = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_image" / "chroma" /
                       "tokens.json").read_text())["cases"]


@pytest.fixture(scope="module")
def chroma_clip():
    weights, reference = model_factory.tiny_t5_state_dict(seed=3, dtype=torch.float32)
    clip = clip_from_text_encoder_state_dicts([weights], clip_type="chroma", sources=["ref-t5xxl.safetensors"])
    return clip, reference


def _options_clip(clip, options: dict):
    if not options:
        return clip
    return T5TokenizerOptions.execute(clip, options["t5xxl_min_padding"], options["t5xxl_min_length"]).result[0]


def test_tokens_equal_comfyuis_with_and_without_t5_tokenizer_options(chroma_clip):
    clip, _ = chroma_clip
    assert len(RECORDED) == 16
    for case in RECORDED:
        tokens = _options_clip(clip, case["tokenizer_options"]).tokenize(case["prompt"])
        assert list(tokens) == ["t5xxl"]
        (sequence,) = tokens["t5xxl"]
        assert [[int(t), float(w)] for t, w in sequence] == case["t5xxl"], (case["prompt"], case["options_name"])
    assert clip.tokenizer_options == {}  # the node changed a clone


def test_the_conditioning_is_t5_over_the_unpadded_tokens_and_weights_measure_from_pads(chroma_clip):
    clip, reference = chroma_clip
    tokens = clip.tokenize("a cat")
    ids = [int(t) for t, _ in tokens["t5xxl"][0]]
    assert ids == [3, 9, 1712, 1]  # as recorded: "▁", "a", "▁cat", end
    cond, pooled = clip.encode_from_tokens(tokens, return_pooled=True)
    assert pooled is None
    with torch.no_grad():
        expected = reference(input_ids=torch.tensor([ids])).last_hidden_state
    assert cond.shape == (1, 4, reference.config.d_model)
    torch.testing.assert_close(cond, expected, atol=1e-5, rtol=1e-5)
    weighted = clip.tokenize("(a cat:1.5)")
    ids = [int(t) for t, _ in weighted["t5xxl"][0]]
    with torch.no_grad():
        z = reference(input_ids=torch.tensor([ids])).last_hidden_state[0]
        empty = reference(input_ids=torch.tensor([[0] * len(ids)])).last_hidden_state[0]  # pads only, no end
    weights = torch.tensor([w for _, w in weighted["t5xxl"][0]])
    expected = (z - empty) * weights[:, None] + empty
    torch.testing.assert_close(clip.encode_from_tokens(weighted)[0], expected, atol=1e-5, rtol=1e-5)


def test_cliploader_type_chroma_takes_one_t5_only():
    weights, _ = model_factory.tiny_t5_state_dict(seed=3, dtype=torch.float32)
    clip_l, _ = model_factory.tiny_text_encoder_state_dict("clip_l")
    with pytest.raises(TextEncoderLoadError, match="chroma"):
        clip_from_text_encoder_state_dicts([weights, clip_l], clip_type="chroma", sources=["t5.safetensors",
                                                                                          "clip_l.safetensors"])
