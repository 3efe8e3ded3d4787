"""CLIP vision encoders (comfy/clip_vision.py, the CLIPVisionLoader and CLIPVisionEncode nodes) give ComfyUI
0.3.64's outputs: full-size random ViT-L/14 and SigLIP so400m/14-384 files, rebuilt from a seed by
tests/fixtures/comfyui_nodes/make_clip_vision_files.py, encoded by ComfyUI on the CPU and recorded by
tools/oracle/record_clip_vision.py (every 16th token of the token outputs). Tolerance: 1e-4 of each output's
largest value."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

import comfy.clip_vision
from comfy.guidance import formats
from core_nodes.clip_vision import CLIPVisionEncode, CLIPVisionLoader
from core_nodes.style_models import StyleModelApply, StyleModelLoader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes"
sys.path.insert(0, str(FIXTURES))
import make_clip_vision_files  # noqa: E402
from make_clip_vision_files import TOKEN_STRIDE, pictures  # noqa: E402

RECORDED = load_file(FIXTURES / "clip_vision" / "outputs.safetensors")
OUTPUT_KEYS = ("image_embeds", "last_hidden_state", "penultimate_hidden_states")


@pytest.fixture(scope="module")
def encoder_files(module_tmp) -> dict[str, Path]:
    return make_clip_vision_files.build(module_tmp("clip_vision"), ["vit_l", "siglip_384", "redux"])


def _assert_matches(out: comfy.clip_vision.Output, case: str) -> None:
    for key in OUTPUT_KEYS:
        value = out[key] if out[key].ndim == 2 else out[key][:, ::TOKEN_STRIDE]
        expected = RECORDED[f"{case}/{key}"]
        assert value.shape == expected.shape, (case, key)
        difference = np.abs(value.float().numpy() - expected).max()
        assert difference <= 1e-4 * np.abs(expected).max(), (case, key, difference)


def test_vit_l_encodes_as_comfyui_with_and_without_crop(encoder_files, monkeypatch):
    monkeypatch.setattr("folder_paths.get_full_path_or_raise", lambda folder, name: str(encoder_files[name]))
    (encoder,) = CLIPVisionLoader().load_clip("vit_l")
    for crop in ("center", "none"):
        for index, picture in enumerate(pictures()):
            (out,) = CLIPVisionEncode().encode(encoder, picture, crop)
            _assert_matches(out, f"vit_l/{crop}/{index}")
            assert out["mm_projected"] is None
    # Packs (IPAdapter) call the network itself with ComfyUI's signature and read its output tuple.
    pixels = comfy.clip_vision.clip_preprocess(pictures()[0], size=224)
    last, penultimate, embeds, projected = encoder.model(pixel_values=pixels, intermediate_output=-2)
    (first,) = CLIPVisionEncode().encode(encoder, pictures()[0], "center")
    assert torch.allclose(embeds, first["image_embeds"]) and torch.allclose(penultimate,
                                                                             first["penultimate_hidden_states"])
    assert projected is None
    assert set(encoder.get_sd()) >= {"vision_model.embeddings.class_embedding", "visual_projection.weight"}


def _assert_close(value: torch.Tensor, expected: np.ndarray, what: str) -> None:
    assert value.shape == expected.shape, what
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(value.numpy()), finite), what  # -inf attention biases in the same places
    difference = np.abs(value.numpy()[finite] - expected[finite]).max()
    assert difference <= 1e-4 * np.abs(expected[finite]).max(), (what, difference)


def test_siglip_and_flux_redux_give_comfyuis_outputs(encoder_files, monkeypatch):
    """SigLIP's outputs, and StyleModelApply with FLUX.1 Redux on them: multiplied tokens, and attention biases
    (log of the strength; -inf at 0) in the conditioning's attention mask, as ComfyUI builds them."""
    encoder = comfy.clip_vision.load(str(encoder_files["siglip_384"]))
    out = encoder.encode_image(pictures()[0], crop=True)
    _assert_matches(out, "siglip_384/center/0")
    assert out["all_hidden_states"].shape == (1, 27, 729, 1152)
    assert torch.equal(out["penultimate_hidden_states"], out["all_hidden_states"][:, -2])

    monkeypatch.setattr("folder_paths.get_full_path_or_raise", lambda folder, name: str(encoder_files[name]))
    (style_model,) = StyleModelLoader().load_style_model("redux")
    for case, (strength, strength_type) in make_clip_vision_files.STYLE_CASES.items():
        (conditioning,) = StyleModelApply().apply_stylemodel(make_clip_vision_files.style_conditioning(),
                                                             style_model, out, strength, strength_type)
        tokens, options = conditioning[0]
        assert tokens.shape == (1, 8 + 729, 4096)
        _assert_close(tokens[:, ::TOKEN_STRIDE, ::8], RECORDED[f"redux/{case}/tokens"], case)
        mask_key = f"redux/{case}/attention_mask"
        assert ("attention_mask" in options) == (mask_key in RECORDED), case
        if mask_key in RECORDED:
            assert options["attention_mask"].dtype == torch.float16
            _assert_close(options["attention_mask"][:, ::TOKEN_STRIDE].float(), RECORDED[mask_key], case)


def test_open_clip_layout_converts_to_the_transformers_layout():
    transformers_layout = make_clip_vision_files.state_dict("vit_l")
    open_clip = make_clip_vision_files.open_clip_layout(transformers_layout)
    converted = comfy.clip_vision.convert_to_transformers(open_clip, "visual.")
    assert converted.keys() == transformers_layout.keys()
    for key, value in transformers_layout.items():
        assert torch.equal(converted[key], value), key


@pytest.mark.parametrize(("width", "layers", "positions", "expected"), [
    (1024, 24, 257, "vit_l"), (1024, 24, 577, "vit_l_336"), (1280, 32, 257, "vit_h"), (1664, 48, 257, "vit_g"),
    (1152, 27, 729, "siglip_384"), (1152, 27, 1024, "siglip_512")])
def test_encoder_is_detected_from_its_keys_as_comfyui_does(width, layers, positions, expected):
    sd = {f"vision_model.encoder.layers.{index}.layer_norm1.weight": torch.empty(width, device="meta")
          for index in range(layers)}
    sd["vision_model.embeddings.position_embedding.weight"] = torch.empty(positions, width, device="meta")
    assert formats.detect_clip_vision(sd) == expected


def test_unknown_and_unsupported_encoders_are_clear_errors(tmp_path):
    with pytest.raises(formats.GuidanceFormatError, match="DINOv2"):
        formats.detect_clip_vision({"encoder.layer.23.layer_scale2.lambda1": torch.empty(1)})
    with pytest.raises(formats.GuidanceFormatError, match="not a CLIP vision model"):
        formats.detect_clip_vision({"something.else": torch.empty(1)})
    truncated = {key: value for key, value in make_clip_vision_files.state_dict("vit_l").items()
                 if "layers.3.mlp" not in key}
    with pytest.raises(comfy.clip_vision.ClipVisionLoadError, match=r"missing \['vision_model.encoder.layers.3.mlp"):
        comfy.clip_vision.load_clipvision_from_sd(truncated)


def test_flux_refuses_an_attention_mask_it_cannot_apply_yet():
    """StyleModelApply's attn_bias (strength != 1) leaves an attention mask in the conditioning; Kiln's FLUX.1
    does not apply such masks yet and says so instead of sampling without it."""
    import comfy.model_base

    options = {"attention_mask": torch.zeros(1, 4, 4, dtype=torch.float16)}
    with pytest.raises(NotImplementedError, match="strength_type multiply"):
        comfy.model_base.Flux.extra_conds(None, torch.zeros(1, 4, 4096), options, torch.zeros(1, 16, 8, 8))
