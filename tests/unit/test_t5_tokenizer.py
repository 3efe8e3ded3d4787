"""Flux's T5-XXL tokenizer: the vendored MIT tokenizer.json, ComfyUI's recorded tokenizations and its rules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from comfy.text_encoders import t5_tokenization as t5xxl_tokenizer
from tests.conftest import FIXTURES
from tools import extract_t5_tokenizer

T5_TOKENIZE = json.loads((FIXTURES / "t5_tokenize.json").read_text(encoding="utf-8"))
PROMPTS = T5_TOKENIZE["prompts"]
PROMPT_IDS = [case["prompt"][:30] or "empty" for case in PROMPTS]


@pytest.fixture(scope="module")
def tokenizer() -> t5xxl_tokenizer.T5XXLNamedTokenizer:
    return t5xxl_tokenizer.T5XXLNamedTokenizer()


def _sequence(tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer, text: str, **kwargs) -> list[tuple]:
    sequences = tokenizer.tokenize_with_weights(text, **kwargs)["t5xxl"]
    assert len(sequences) == 1
    return sequences[0]


def test_vendored_tokenizer_json_is_comfyuis_file_with_both_mit_licences() -> None:
    path = Path(t5xxl_tokenizer.TOKENIZER_PATH)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == extract_t5_tokenizer.PATCHED_SHA256
    licence = (path.parent / "LICENSE").read_text(encoding="utf-8")
    assert licence.count("MIT License") == 2
    assert "Copyright (c) 2024 William Murray" in licence and "Copyright (c) 2023 leejet" in licence


def test_extraction_patch_turns_the_embedded_file_into_comfyuis_byte_for_byte() -> None:
    # Undo the five documented changes on the vendored file, then let the tool's patch redo them.
    patched = json.loads(Path(t5xxl_tokenizer.TOKENIZER_PATH).read_bytes())
    unpatched = json.loads(json.dumps(patched))
    normalizers = unpatched["normalizer"]["normalizers"]
    normalizers.remove({"type": "Strip", "strip_left": False, "strip_right": True})
    next(entry for entry in normalizers if entry["type"] == "Replace")["content"] = " "
    del unpatched["pre_tokenizer"]["prepend_scheme"], unpatched["decoder"]["prepend_scheme"]
    del unpatched["model"]["byte_fallback"]

    redone = extract_t5_tokenizer.patch_settings(unpatched)
    text = json.dumps(redone, indent=2, ensure_ascii=False).encode("utf-8")
    assert hashlib.sha256(text).hexdigest() == extract_t5_tokenizer.PATCHED_SHA256


def test_extraction_reads_the_named_c_byte_array_only() -> None:
    header = (b"static const unsigned char other[] = {\n    0x41,\n};\n"
              b"static const unsigned char t5_tokenizer_json_str[] = {\n    0x7b,\n    0x7D,\n};\n")
    assert extract_t5_tokenizer.embedded_bytes(header, "t5_tokenizer_json_str") == b"{}"


def test_t5_tokenizer_is_loaded_once_with_t5_special_ids() -> None:
    tokenizer = t5xxl_tokenizer.t5_tokenizer()
    assert tokenizer is t5xxl_tokenizer.t5_tokenizer()
    assert tokenizer.get_vocab_size() == 32100
    ids = {name: tokenizer.token_to_id(name) for name in ("<pad>", "</s>", "<unk>", "<extra_id_0>", "<extra_id_99>")}
    assert ids == {"<pad>": 0, "</s>": 1, "<unk>": 2, "<extra_id_0>": 32099, "<extra_id_99>": 32000}


@pytest.mark.parametrize("case", PROMPTS, ids=PROMPT_IDS)
def test_whole_prompt_ids_equal_comfyuis_t5_tokenizer_fast(case: dict) -> None:
    assert t5xxl_tokenizer.t5_tokenizer().encode(case["prompt"]).ids == case["hf_input_ids_whole_prompt"]


@pytest.mark.parametrize("case", PROMPTS, ids=PROMPT_IDS)
def test_tokenize_with_weights_equals_comfyui_recording(tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer,
                                                        case: dict) -> None:
    (expected,) = case["t5xxl"]
    sequence = _sequence(tokenizer, case["prompt"])
    assert [token for token, _ in sequence] == [token for token, _ in expected]
    assert [weight for _, weight in sequence] == pytest.approx([weight for _, weight in expected], abs=1e-9)

    (expected_with_ids,) = case["t5xxl_with_word_ids"]
    with_ids = _sequence(tokenizer, case["prompt"], return_word_ids=True)
    assert [(token, word_id) for token, _, word_id in with_ids] == [
        (token, word_id) for token, _, word_id in expected_with_ids]
    assert [weight for _, weight, _ in with_ids] == pytest.approx(
        [weight for _, weight, _ in expected_with_ids], abs=1e-9)


def test_short_prompt_gets_no_start_token_one_end_token_and_zero_padding_to_256(
        tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer) -> None:
    sequence = _sequence(tokenizer, "a photo of a cat")
    assert len(sequence) == 256
    assert sequence[:8] == [(3, 1.0), (9, 1.0), (1202, 1.0), (13, 1.0), (3, 1.0), (9, 1.0), (1712, 1.0), (1, 1.0)]
    assert sequence[8:] == [(0, 1.0)] * 248
    assert _sequence(tokenizer, "") == [(1, 1.0)] + [(0, 1.0)] * 255


def test_long_prompt_is_one_unchunked_sequence_with_its_end_token(
        tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer) -> None:
    sequence = _sequence(tokenizer, " ".join(["cat"] * 300))
    assert len(sequence) == 301
    assert sequence[:300] == [(1712, 1.0)] * 300
    assert sequence[300] == (1, 1.0)


def test_special_token_text_is_live(tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer) -> None:
    ids = [token for token, _ in _sequence(tokenizer, "a </s> b <extra_id_0> c")]
    assert ids[:9] == [3, 9, 1, 3, 115, 32099, 3, 75, 1]
    assert ids[9:] == [0] * 247


def test_weighted_segments_are_tokenized_on_their_own_without_parentheses(
        tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer) -> None:
    sequence = _sequence(tokenizer, "a (cute:1.3) cat, ((fluffy))")
    assert sequence[:7] == [(3, 1.0), (9, 1.0), (5295, 1.3), (1712, 1.0), (6, 1.0), (25155, 1.1 * 1.1), (1, 1.0)]
    # The whole string, parentheses and ":1.3" included, is 16 ids; a segment starting with a space has no lone "▁".
    assert len(t5xxl_tokenizer.t5_tokenizer().encode("a (cute:1.3) cat, ((fluffy))").ids) == 16
    assert all(weight == 1.0 for _, weight in sequence[6:])


def test_escaped_parentheses_are_literal_text(tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer) -> None:
    sequence = _sequence(tokenizer, "a \\(cat\\)")
    assert sequence[:6] == [(3, 1.0), (9, 1.0), (41, 1.0), (2138, 1.0), (61, 1.0), (1, 1.0)]


def test_named_tokenizer_returns_the_t5xxl_key_and_untokenizes_to_pieces(
        tokenizer: t5xxl_tokenizer.T5XXLNamedTokenizer) -> None:
    tokens = tokenizer.tokenize_with_weights("a cat")
    assert list(tokens) == ["t5xxl"]
    assert [piece for _, piece in tokenizer.untokenize(tokens["t5xxl"][0][:4])] == ["▁", "a", "▁cat", "</s>"]


def test_min_length_option_changes_the_padding() -> None:
    inner = t5xxl_tokenizer.T5XXLTokenizer()
    assert len(inner.tokenize_with_weights("a cat", tokenizer_options={"t5xxl_min_length": 1})[0]) == 4
    assert len(t5xxl_tokenizer.T5XXLTokenizer(min_length=300).tokenize_with_weights("a cat")[0]) == 300


def test_t5xxl_embedding_becomes_vectors_and_a_missing_one_is_dropped(tmp_path: Path) -> None:
    vectors = torch.randn(2, 4096)
    save_file({"t5xxl": vectors, "clip_l": torch.randn(2, 768)}, str(tmp_path / "style.safetensors"))
    inner = t5xxl_tokenizer.T5XXLTokenizer(embedding_directory=str(tmp_path))
    sequence = inner.tokenize_with_weights("a (embedding:style:1.2) cat")[0]
    assert sequence[:2] == [(3, 1.0), (9, 1.0)]
    assert torch.equal(sequence[2][0], vectors[0]) and torch.equal(sequence[3][0], vectors[1])
    assert (sequence[2][1], sequence[3][1]) == (1.2, 1.2)
    assert sequence[4:6] == [(1712, 1.0), (1, 1.0)] and len(sequence) == 256
    missing = inner.tokenize_with_weights("embedding:missing a cat")[0]
    assert missing[:4] == [(3, 1.0), (9, 1.0), (1712, 1.0), (1, 1.0)]
