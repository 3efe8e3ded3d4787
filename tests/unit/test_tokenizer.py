"""The CLIP tokenizer: ComfyUI's recorded tokenizations, prompt weighting, escapes, chunking and embeddings."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import folder_paths
from comfy import sd1_clip, sd2_clip, sdxl_clip
from comfy.clip_object import default_embedding_directories
from comfy.text_encoders import clip_tokenizer
from tests.conftest import FIXTURES

TOKENIZE = json.loads((FIXTURES / "tokenize.json").read_text(encoding="utf-8"))
PROMPTS = TOKENIZE["prompts"]


def _as_lists(chunks: list[list[tuple]]) -> list[list[list]]:
    return [[list(entry) for entry in chunk] for chunk in chunks]


@pytest.fixture(scope="module")
def sd1_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> sd1_clip.SD1Tokenizer:
    # Like the fixture's recording: an empty embeddings folder.
    return sd1_clip.SD1Tokenizer(embedding_directory=str(tmp_path_factory.mktemp("no_embeddings")))


@pytest.fixture
def embeddings_folder(tmp_path: Path):
    """Point folder_paths' `embeddings` kind at an empty tmp folder for one test; restore it afterwards."""
    entry = folder_paths.folder_names_and_paths["embeddings"]
    saved = (list(entry[0]), set(entry[1]))
    folder_paths.folder_names_and_paths["embeddings"] = ([str(tmp_path)], saved[1])
    try:
        yield tmp_path
    finally:
        folder_paths.folder_names_and_paths["embeddings"] = saved


def test_vendored_vocabulary_is_openais_mit_bpe_file() -> None:
    vocab = Path(clip_tokenizer.VOCAB_PATH)
    assert hashlib.md5(vocab.read_bytes()).hexdigest() == "933b7abbbbde62c36f02f0e6ccde464f"
    licence = (vocab.parent / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Copyright (c) 2021 OpenAI" in licence


def test_tokenizer_is_built_once_per_process_with_clip_ids() -> None:
    tokenizer = clip_tokenizer.clip_tokenizer()
    assert tokenizer is clip_tokenizer.clip_tokenizer()
    assert len(tokenizer.get_vocab()) == 49408
    assert tokenizer("a photo of a cat")["input_ids"] == [49406, 320, 1125, 539, 320, 2368, 49407]


def test_fixture_settings_match_sd1_tokenizer(sd1_tokenizer: sd1_clip.SD1Tokenizer) -> None:
    settings = TOKENIZE["tokenizer"]
    inner = sd1_tokenizer.clip_l
    assert (inner.max_length, inner.max_word_length) == (settings["max_length"], settings["max_word_length"])
    assert (inner.start_token, inner.end_token, inner.pad_token) == (
        settings["start_token"], settings["end_token"], settings["pad_token"])


@pytest.mark.parametrize("case", PROMPTS, ids=[case["name"] for case in PROMPTS])
def test_tokenize_with_weights_equals_comfyui_recording(sd1_tokenizer: sd1_clip.SD1Tokenizer, case: dict) -> None:
    chunks = sd1_tokenizer.tokenize_with_weights(case["text"])["l"]
    assert len(chunks) == case["n_chunks"]
    assert all(len(chunk) == 77 for chunk in chunks)
    assert _as_lists(chunks) == case["chunks"]
    with_ids = sd1_tokenizer.tokenize_with_weights(case["text"], return_word_ids=True)["l"]
    assert _as_lists(with_ids) == case["with_word_ids"]


@pytest.mark.parametrize(("text", "expected"), [
    ("a (cat) b", [("a ", 1.0), ("cat", 1.1), (" b", 1.0)]),
    ("((cat))", [("cat", 1.1 * 1.1)]),
    ("(cat:1.3)", [("cat", 1.3)]),
    ("(red (cat:1.5) x:0.8)", [("red ", 0.8), ("cat", 1.5), (" x", 0.8)]),
    ("[cat]", [("[cat]", 1.0)]),
    ("(cat:abc)", [("cat:abc", 1.1)]),
    ("(:1.2)", [(":1.2", 1.1)]),
    ("a (cat", [("a ", 1.0), ("(cat", 1.0)]),
    ("a) (b)", [("a) (b)", 1.0)]),
])
def test_parse_prompt_weights_follows_comfyui_rules(text: str, expected: list[tuple[str, float]]) -> None:
    assert sd1_clip.parse_prompt_weights(text) == expected


def test_escaped_parentheses_are_literal_text_at_weight_one() -> None:
    runs = sd1_clip.parse_prompt_weights(sd1_clip.escape_important("a \\(cat\\) (dog)"))
    assert [(sd1_clip.unescape_important(text), weight) for text, weight in runs] == [
        ("a (cat) ", 1.0), ("dog", 1.1)]


def test_openclip_tokenizers_pad_with_zero_after_the_end_token() -> None:
    for tokenizer in (sdxl_clip.SDXLClipGTokenizer(), sd2_clip.SD2ClipHTokenizer()):
        chunk = tokenizer.tokenize_with_weights("a photo of a cat")[0]
        assert [token for token, _ in chunk[:8]] == [49406, 320, 1125, 539, 320, 2368, 49407, 0]
        assert {token for token, _ in chunk[7:]} == {0}


def test_sdxl_tokenizer_gives_g_and_l_chunks_for_the_same_text() -> None:
    tokens = sdxl_clip.SDXLTokenizer().tokenize_with_weights("a (cat:1.2)")
    assert set(tokens) == {"g", "l"}
    assert tokens["l"][0][:4] == tokens["g"][0][:4] == [(49406, 1.0), (320, 1.0), (2368, 1.2), (49407, 1.0)]
    assert tokens["l"][0][4] == (49407, 1.0) and tokens["g"][0][4] == (0, 1.0)
    assert sd2_clip.SD2Tokenizer().tokenize_with_weights("x").keys() == {"h"}
    assert sdxl_clip.SDXLRefinerTokenizer().tokenize_with_weights("x").keys() == {"g"}


def test_embedding_safetensors_file_becomes_vectors_in_the_chunk(embeddings_folder: Path) -> None:
    vectors = torch.randn(2, 768)
    save_file({"emb_params": vectors}, str(embeddings_folder / "myemb.safetensors"))
    tokenizer = sd1_clip.SDTokenizer(embedding_directory=default_embedding_directories())
    chunk = tokenizer.tokenize_with_weights("a (embedding:myemb:1.2) cat", return_word_ids=True)[0]
    assert len(chunk) == 77
    assert chunk[1] == (320, 1.0, 1)
    assert torch.equal(chunk[2][0], vectors[0]) and torch.equal(chunk[3][0], vectors[1])
    assert chunk[2][1:] == (1.2, 2) and chunk[3][1:] == (1.2, 2)
    assert chunk[4] == (2368, 1.0, 3)


def test_a1111_pt_embedding_and_sdxl_keyed_embedding_pick_the_encoders_vectors(embeddings_folder: Path) -> None:
    a1111 = torch.randn(3, 768)
    torch.save({"string_to_param": {"*": a1111}, "name": "style"}, str(embeddings_folder / "style.pt"))
    l_vectors, g_vectors = torch.randn(1, 768), torch.randn(1, 1280)
    save_file({"clip_l": l_vectors, "clip_g": g_vectors}, str(embeddings_folder / "xl.safetensors"))
    directories = default_embedding_directories()

    chunk = sd1_clip.SDTokenizer(embedding_directory=directories).tokenize_with_weights("embedding:style")[0]
    assert [torch.equal(chunk[1 + i][0], a1111[i]) for i in range(3)] == [True] * 3
    assert chunk[4] == (49407, 1.0)

    tokens = sdxl_clip.SDXLTokenizer(embedding_directory=directories).tokenize_with_weights("embedding:xl.safetensors")
    assert torch.equal(tokens["l"][0][1][0], l_vectors[0])
    assert torch.equal(tokens["g"][0][1][0], g_vectors[0])


def test_missing_embedding_logs_a_warning_and_keeps_the_rest(embeddings_folder: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    tokenizer = sd1_clip.SDTokenizer(embedding_directory=default_embedding_directories())
    with caplog.at_level(logging.WARNING):
        chunk = tokenizer.tokenize_with_weights("embedding:nothere a cat")[0]
    assert "embedding:nothere" in caplog.text and "does not exist, ignoring" in caplog.text
    assert [token for token, _ in chunk[:4]] == [49406, 320, 2368, 49407]


def test_embedding_name_with_trailing_comma_is_found_and_comma_kept(embeddings_folder: Path) -> None:
    vector = torch.randn(768)
    save_file({"v": vector}, str(embeddings_folder / "solo.safetensors"))
    tokenizer = sd1_clip.SDTokenizer(embedding_directory=default_embedding_directories())
    chunk = tokenizer.tokenize_with_weights("a embedding:solo, cat")[0]
    assert torch.equal(chunk[2][0], vector)
    assert [token for token, _ in chunk[3:6]] == [267, 2368, 49407]  # ",", "cat", end


def test_embedding_name_cannot_leave_the_embeddings_folder(embeddings_folder: Path) -> None:
    outside = embeddings_folder.parent / "secret.safetensors"
    save_file({"v": torch.randn(768)}, str(outside))
    inner = embeddings_folder / "inner"
    inner.mkdir()
    assert sd1_clip.load_embed("../secret", [str(inner)], 768) is None
    assert sd1_clip.load_embed("", [str(embeddings_folder.parent / "secret")], 768) is None
    assert sd1_clip.load_embed("secret", [str(embeddings_folder.parent)], 768) is not None


def test_without_embedding_directory_the_marker_is_plain_text() -> None:
    chunk = sd1_clip.SDTokenizer().tokenize_with_weights("embedding:cat")[0]
    assert all(isinstance(token, int) for token, _ in chunk)
    assert len([token for token, _ in chunk if token != 49407]) > 3
