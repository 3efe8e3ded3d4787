"""Core latent nodes in nodes.py, called directly: empty latents, resizing, batch picking, compositing, files."""

from __future__ import annotations

import json
import os

import torch
from safetensors import safe_open
from safetensors.torch import save_file

import nodes
from comfy.cli_args import args


def numbered_latent(batch: int = 4, height: int = 8, width: int = 8) -> dict:
    """A latent whose sample i is filled with the value i, so slices can be recognised."""
    samples = torch.arange(batch, dtype=torch.float32).reshape(batch, 1, 1, 1).expand(batch, 4, height, width)
    return {"samples": samples.clone()}


# --- EmptyLatentImage ----------------------------------------------------------------------------------------


def test_empty_latent_image_is_zeros_at_one_eighth_resolution_on_cpu():
    (latent,) = nodes.EmptyLatentImage().generate(width=512, height=768, batch_size=3)

    assert list(latent) == ["samples"]
    assert latent["samples"].shape == (3, 4, 96, 64)
    assert latent["samples"].device.type == "cpu" and latent["samples"].abs().sum() == 0


def test_empty_latent_image_inputs_have_comfyui_ranges():
    required = nodes.EmptyLatentImage.INPUT_TYPES()["required"]

    assert {key: required["width"][1][key] for key in ("default", "min", "max", "step")} == \
        {"default": 512, "min": 16, "max": 16384, "step": 8}
    assert (required["batch_size"][1]["min"], required["batch_size"][1]["max"]) == (1, 4096)


# --- LatentUpscale / LatentUpscaleBy -------------------------------------------------------------------------


def test_latent_upscale_divides_pixel_size_by_eight_and_keeps_other_keys():
    latent = {"samples": torch.randn(2, 4, 8, 8), "batch_index": [3, 4]}

    (result,) = nodes.LatentUpscale().upscale(latent, "nearest-exact", 128, 96, "disabled")

    assert result["samples"].shape == (2, 4, 12, 16)
    assert result["batch_index"] == [3, 4]
    assert latent["samples"].shape == (2, 4, 8, 8)  # input untouched


def test_latent_upscale_zero_side_keeps_aspect_and_sides_are_at_least_64_pixels():
    latent = {"samples": torch.randn(1, 4, 8, 16)}

    (by_width,) = nodes.LatentUpscale().upscale(latent, "bilinear", 256, 0, "disabled")
    (tiny,) = nodes.LatentUpscale().upscale(latent, "bilinear", 8, 8, "disabled")

    assert by_width["samples"].shape == (1, 4, 16, 32)
    assert tiny["samples"].shape == (1, 4, 8, 8)


def test_latent_upscale_bislerp_keeps_constant_latents_and_vector_length():
    constant = torch.tensor([3.0, 0.0, 4.0, 0.0]).reshape(1, 4, 1, 1).expand(1, 4, 8, 8)

    (result,) = nodes.LatentUpscale().upscale({"samples": constant}, "bislerp", 96, 80, "disabled")

    assert result["samples"].shape == (1, 4, 10, 12)
    assert torch.allclose(result["samples"], constant[:, :, :1, :1].expand(1, 4, 10, 12), atol=1e-5)


def test_latent_upscale_bislerp_interpolates_on_the_sphere_between_neighbours():
    samples = torch.zeros(1, 2, 1, 2)
    samples[0, 0, 0, 0] = 1.0  # left column points along channel 0
    samples[0, 1, 0, 1] = 1.0  # right column points along channel 1

    (result,) = nodes.LatentUpscale().upscale({"samples": samples}, "bislerp", 512, 512, "disabled")

    lengths = result["samples"].norm(dim=1)
    assert torch.allclose(lengths, torch.ones_like(lengths), atol=1e-5)
    assert result["samples"][0, 0, 0, 0] > result["samples"][0, 0, 0, -1]


def test_latent_upscale_by_scales_latent_size():
    (result,) = nodes.LatentUpscaleBy().upscale({"samples": torch.randn(1, 4, 8, 10)}, "bicubic", 1.5)

    assert result["samples"].shape == (1, 4, 12, 15)
    assert nodes.LatentUpscaleBy.INPUT_TYPES()["required"]["scale_by"][1]["default"] == 1.5


# --- LatentFromBatch / RepeatLatentBatch ---------------------------------------------------------------------


def test_latent_from_batch_takes_a_slice_and_records_batch_index():
    (result,) = nodes.LatentFromBatch().frombatch(numbered_latent(4), batch_index=1, length=2)

    assert result["samples"][:, 0, 0, 0].tolist() == [1.0, 2.0]
    assert result["batch_index"] == [1, 2]


def test_latent_from_batch_clamps_index_and_length_to_the_batch():
    (result,) = nodes.LatentFromBatch().frombatch(numbered_latent(3), batch_index=10, length=5)

    assert result["samples"][:, 0, 0, 0].tolist() == [2.0]
    assert result["batch_index"] == [2]


def test_latent_from_batch_slices_existing_batch_index_and_noise_mask():
    latent = numbered_latent(3)
    latent["batch_index"] = [7, 8, 9]
    latent["noise_mask"] = torch.arange(3, dtype=torch.float32).reshape(3, 1, 1, 1).expand(3, 1, 4, 4)

    (result,) = nodes.LatentFromBatch().frombatch(latent, batch_index=1, length=2)

    assert result["batch_index"] == [8, 9]
    assert result["noise_mask"][:, 0, 0, 0].tolist() == [1.0, 2.0]


def test_repeat_latent_batch_repeats_samples_and_extends_batch_index():
    latent = numbered_latent(2)
    latent["batch_index"] = [4, 5]

    (result,) = nodes.RepeatLatentBatch().repeat(latent, amount=3)

    assert result["samples"][:, 0, 0, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    assert result["batch_index"] == [4, 5, 6, 7, 8, 9]


def test_repeat_latent_batch_repeats_a_per_sample_noise_mask():
    latent = numbered_latent(2)
    latent["noise_mask"] = torch.tensor([0.0, 1.0]).reshape(2, 1, 1, 1).expand(2, 1, 4, 4)

    (result,) = nodes.RepeatLatentBatch().repeat(latent, amount=2)

    assert result["noise_mask"][:, 0, 0, 0].tolist() == [0.0, 1.0, 0.0, 1.0]


# --- LatentComposite -----------------------------------------------------------------------------------------


def test_latent_composite_pastes_at_pixel_offset_divided_by_eight():
    to = {"samples": torch.zeros(1, 4, 8, 8)}
    source = {"samples": torch.ones(1, 4, 4, 4)}

    (result,) = nodes.LatentComposite().composite(to, source, x=16, y=8, feather=0)

    expected = torch.zeros(1, 4, 8, 8)
    expected[:, :, 1:5, 2:6] = 1.0
    assert torch.equal(result["samples"], expected)
    assert to["samples"].abs().sum() == 0  # input untouched


def test_latent_composite_clips_source_at_destination_edge():
    (result,) = nodes.LatentComposite().composite({"samples": torch.zeros(1, 4, 4, 4)},
                                                  {"samples": torch.ones(1, 4, 4, 4)}, x=16, y=16, feather=0)

    assert result["samples"][0, 0].sum() == 4.0 and torch.all(result["samples"][:, :, 2:, 2:] == 1.0)


def test_latent_composite_feathers_inner_edges_only():
    (result,) = nodes.LatentComposite().composite({"samples": torch.zeros(1, 1, 8, 8)},
                                                  {"samples": torch.ones(1, 1, 4, 4)}, x=16, y=0, feather=16)

    row = result["samples"][0, 0, 0].tolist()
    # Left edge (x != 0) and right edge (ends before the border) fade in over 2 latent pixels.
    assert row == [0.0, 0.0, 0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
    # Top edge is at y = 0, so row 0 is not faded vertically.
    assert result["samples"][0, 0, 0, 3] == 1.0


# --- SaveLatent / LoadLatent ---------------------------------------------------------------------------------


def test_save_latent_writes_safetensors_with_version_marker_and_metadata(folders):
    samples = torch.randn(2, 4, 3, 5)

    result = nodes.SaveLatent().save({"samples": samples}, "latents/ComfyUI", prompt={"1": {"x": 1}},
                                     extra_pnginfo={"workflow": {"w": 2}})

    assert result == {"ui": {"latents": [{"filename": "ComfyUI_00001_.latent", "subfolder": "latents",
                                          "type": "output"}]}}
    path = folders["output"] / "latents" / "ComfyUI_00001_.latent"
    with safe_open(str(path), framework="pt") as handle:
        assert set(handle.keys()) == {"latent_tensor", "latent_format_version_0"}
        assert torch.equal(handle.get_tensor("latent_tensor"), samples)
        metadata = handle.metadata()
    assert json.loads(metadata["prompt"]) == {"1": {"x": 1}}
    assert json.loads(metadata["workflow"]) == {"w": 2}


def test_save_latent_with_disable_metadata_stores_no_metadata(folders, monkeypatch):
    monkeypatch.setattr(args, "disable_metadata", True)

    nodes.SaveLatent().save({"samples": torch.zeros(1, 4, 2, 2)}, "plain", prompt={"1": {}})

    with safe_open(str(folders["output"] / "plain_00001_.latent"), framework="pt") as handle:
        assert not handle.metadata()


def test_save_latent_then_load_latent_round_trips_the_samples(folders):
    samples = torch.randn(1, 4, 6, 7)
    saved = nodes.SaveLatent().save({"samples": samples}, "rt")["ui"]["latents"][0]
    os.replace(folders["output"] / saved["filename"], folders["input"] / saved["filename"])

    assert nodes.LoadLatent.INPUT_TYPES()["required"]["latent"] == [["rt_00001_.latent"]]
    (loaded,) = nodes.LoadLatent().load("rt_00001_.latent")

    assert torch.equal(loaded["samples"], samples)


def test_load_latent_rescales_files_without_version_marker(folders):
    save_file({"latent_tensor": torch.full((1, 4, 2, 2), 0.18215)}, str(folders["input"] / "old.latent"))

    (loaded,) = nodes.LoadLatent().load("old.latent")

    assert torch.allclose(loaded["samples"], torch.ones(1, 4, 2, 2))


def test_load_latent_validates_and_hashes_the_file(folders):
    path = folders["input"] / "a.latent"
    save_file({"latent_tensor": torch.zeros(1)}, str(path))
    first = nodes.LoadLatent.IS_CHANGED("a.latent")
    save_file({"latent_tensor": torch.ones(1)}, str(path))

    assert nodes.LoadLatent.IS_CHANGED("a.latent") != first
    assert nodes.LoadLatent.VALIDATE_INPUTS("a.latent") is True
    assert nodes.LoadLatent.VALIDATE_INPUTS("b.latent") == "Invalid latent file: b.latent"
