"""SentencePiece models read from ModelProto bytes without `sentencepiece` / `protobuf`: the wire-format reader,
and encodings equal to `sentencepiece.SentencePieceProcessor(add_eos=True)`'s, recorded on the oracle
(tests/fixtures/comfyui_video/umt5/tokens.json, tools/oracle/record_umt5.py) for the two ModelProtos that
tests/fixtures/comfyui_video/make_umt5_files.py writes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from comfy.text_encoders.sentencepiece_model import (
    BYTE,
    CONTROL,
    UNKNOWN,
    SentencePieceModelError,
    SentencePieceTokenizer,
    parse_model_proto,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_video"
RECORDED = json.loads((FIXTURES / "umt5" / "tokens.json").read_text(encoding="utf-8"))


def _fixture_module():
    spec = importlib.util.spec_from_file_location("make_umt5_files", FIXTURES / "make_umt5_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_umt5_files = _fixture_module()


def test_the_model_proto_reader_reads_pieces_types_scores_and_the_special_ids():
    model = parse_model_proto(make_umt5_files.spiece_model_bytes("nfkc"))
    assert len(model.pieces) == len(make_umt5_files.pieces())
    assert [(piece.text, piece.type) for piece in model.pieces[:4]] == [
        ("<pad>", CONTROL), ("</s>", CONTROL), ("<unk>", UNKNOWN), ("<0x00>", BYTE)]
    expected = make_umt5_files.pieces()[300]
    assert (model.pieces[300].text, model.pieces[300].score) == (expected[0], pytest.approx(expected[1], abs=1e-6))
    assert (model.unk_id, model.bos_id, model.eos_id, model.pad_id) == (2, -1, 1, 0)  # -1 is a negative varint
    assert model.byte_fallback and model.add_dummy_prefix and model.remove_extra_whitespaces
    assert model.normalizer_name == "nmt_nfkc" and len(model.precompiled_charsmap) > 1000
    plain = parse_model_proto(make_umt5_files.spiece_model_bytes("identity"))
    assert not plain.byte_fallback and not plain.remove_extra_whitespaces and not plain.precompiled_charsmap


def test_bytes_that_are_not_a_sentencepiece_model_are_refused():
    with pytest.raises(SentencePieceModelError, match="no pieces"):
        parse_model_proto(b"")
    with pytest.raises(SentencePieceModelError):
        parse_model_proto(b"\x0a\xff\xff\xff")  # a field longer than the data


def test_models_it_cannot_reproduce_are_refused_by_name():
    pieces = [("<unk>", 0.0, 2), ("\u2581a", -1.0, 1)]
    with pytest.raises(SentencePieceModelError, match="not Unigram"):
        SentencePieceTokenizer(make_umt5_files.model_proto(pieces, {3: 2}, {}))  # BPE
    with pytest.raises(SentencePieceModelError, match="treat_whitespace_as_suffix"):
        SentencePieceTokenizer(make_umt5_files.model_proto(pieces, {24: 1}, {}))


@pytest.mark.parametrize("variant", ["nfkc", "identity"])
def test_sentencepiece_encoding_matches_sentencepiece_itself(variant):
    """NFKC folding, whitespace rules, the dummy prefix, byte fallback (emoji, unknown CJK) or merged `<unk>`,
    and "</s>" / "<0x41>" typed in the text staying characters: as `SentencePieceProcessor(add_eos=True)`."""
    tokenizer = SentencePieceTokenizer(make_umt5_files.spiece_model_bytes(variant))
    for prompt, expected in zip(RECORDED["raw_prompts"], RECORDED["raw"][variant], strict=True):
        assert tokenizer(prompt)["input_ids"] == expected, prompt
