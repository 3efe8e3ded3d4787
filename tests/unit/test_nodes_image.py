"""Core image nodes in nodes.py, called directly: saving, previewing, loading and the pixel transforms."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch
from PIL import Image

import nodes
from comfy import model_management
from comfy.cli_args import args


def gradient(batch: int = 1, height: int = 8, width: int = 12) -> torch.Tensor:
    values = torch.linspace(0, 1, batch * height * width * 3)
    return values.reshape(batch, height, width, 3)


# --- SaveImage -----------------------------------------------------------------------------------------------


def test_save_image_names_files_with_counter_and_returns_ui_entries(folders):
    result = nodes.SaveImage().save_images(gradient(batch=2), "ComfyUI")

    assert result == {"ui": {"images": [
        {"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"},
        {"filename": "ComfyUI_00002_.png", "subfolder": "", "type": "output"},
    ]}}
    assert sorted(os.listdir(folders["output"])) == ["ComfyUI_00001_.png", "ComfyUI_00002_.png"]


def test_save_image_counter_continues_after_existing_files(folders):
    (folders["output"] / "ComfyUI_00007_.png").write_bytes(b"")

    result = nodes.SaveImage().save_images(gradient(), "ComfyUI")

    assert result["ui"]["images"][0]["filename"] == "ComfyUI_00008_.png"


def test_save_image_prefix_with_directory_saves_into_subfolder(folders):
    result = nodes.SaveImage().save_images(gradient(), "run1/shot")

    assert result["ui"]["images"] == [{"filename": "shot_00001_.png", "subfolder": "run1", "type": "output"}]
    assert (folders["output"] / "run1" / "shot_00001_.png").is_file()


def test_save_image_substitutes_width_height_and_batch_num(folders):
    result = nodes.SaveImage().save_images(gradient(batch=2, height=8, width=12), "img_%width%x%height%_%batch_num%")

    names = [entry["filename"] for entry in result["ui"]["images"]]
    assert names == ["img_12x8_0_00001_.png", "img_12x8_1_00002_.png"]


def test_save_image_writes_pixels_as_truncated_8bit(folders):
    image = torch.tensor([[[[0.0, 0.5, 1.0], [0.999, 1.5, -0.2]]]])

    nodes.SaveImage().save_images(image, "px")

    with Image.open(folders["output"] / "px_00001_.png") as saved:
        assert saved.mode == "RGB"
        assert np.array(saved).tolist() == [[[0, 127, 255], [254, 255, 0]]]


def test_save_image_embeds_prompt_and_extra_pnginfo_as_text_chunks(folders):
    prompt = {"1": {"class_type": "SaveImage", "inputs": {"filename_prefix": "é"}}}
    extra = {"workflow": {"nodes": [1, 2]}, "note": "caf\u00e9 \u4e2d"}

    nodes.SaveImage().save_images(gradient(), "meta", prompt=prompt, extra_pnginfo=extra)

    with Image.open(folders["output"] / "meta_00001_.png") as saved:
        assert json.loads(saved.text["prompt"]) == prompt
        assert json.loads(saved.text["workflow"]) == {"nodes": [1, 2]}
        assert json.loads(saved.text["note"]) == "caf\u00e9 \u4e2d"


def test_save_image_with_disable_metadata_writes_no_text_chunks(folders, monkeypatch):
    monkeypatch.setattr(args, "disable_metadata", True)

    nodes.SaveImage().save_images(gradient(), "plain", prompt={"1": {}}, extra_pnginfo={"workflow": {}})

    with Image.open(folders["output"] / "plain_00001_.png") as saved:
        assert saved.text == {}


def test_save_image_uses_compress_level_4_and_preview_level_1(folders):
    assert nodes.SaveImage().compress_level == 4
    assert nodes.PreviewImage().compress_level == 1


def test_save_image_declares_hidden_prompt_inputs_and_is_output_node():
    inputs = nodes.SaveImage.INPUT_TYPES()

    assert inputs["required"]["filename_prefix"][1]["default"] == "ComfyUI"
    assert inputs["hidden"] == {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    assert nodes.SaveImage.OUTPUT_NODE is True
    assert nodes.SaveImage.RETURN_TYPES == ()


# --- PreviewImage --------------------------------------------------------------------------------------------


def test_preview_image_saves_to_temp_with_random_suffix_fixed_per_instance(folders):
    preview = nodes.PreviewImage()

    first = preview.save_images(gradient())["ui"]["images"][0]
    second = preview.save_images(gradient())["ui"]["images"][0]

    match = re.fullmatch(r"ComfyUI_temp_([a-z]{5})_00001_\.png", first["filename"])
    assert match is not None
    assert set(match.group(1)) <= set("abcdefghijklmnopqrstupvxyz")
    assert first["type"] == "temp" and first["subfolder"] == ""
    assert second["filename"] == f"ComfyUI_temp_{match.group(1)}_00002_.png"
    assert (folders["temp"] / first["filename"]).is_file()
    assert os.listdir(folders["output"]) == []


def test_preview_image_has_no_filename_prefix_input():
    assert list(nodes.PreviewImage.INPUT_TYPES()["required"]) == ["images"]


# --- LoadImage / LoadImageMask -------------------------------------------------------------------------------


def write_rgba(path, alpha: int = 64) -> None:
    array = np.zeros((6, 4, 4), dtype=np.uint8)
    array[..., 0] = 255
    array[..., 3] = alpha
    Image.fromarray(array, "RGBA").save(path)


def test_load_image_lists_only_image_files_sorted_with_upload_option(folders):
    for name in ("b.png", "a.jpg", "notes.txt"):
        (folders["input"] / name).write_bytes(b"x")
    (folders["input"] / "sub").mkdir()

    image_input = nodes.LoadImage.INPUT_TYPES()["required"]["image"]

    assert image_input == (["a.jpg", "b.png"], {"image_upload": True})


def test_load_image_returns_rgb_image_and_mask_from_inverted_alpha(folders):
    write_rgba(folders["input"] / "rgba.png", alpha=64)

    image, mask = nodes.LoadImage().load_image("rgba.png")

    assert image.shape == (1, 6, 4, 3) and image.dtype == torch.float32
    assert torch.allclose(image[0, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert mask.shape == (1, 6, 4)
    assert torch.allclose(mask, torch.full((1, 6, 4), 1.0 - 64 / 255))


def test_load_image_without_alpha_gives_64x64_zero_mask(folders):
    Image.new("RGB", (5, 3), (0, 255, 0)).save(folders["input"] / "rgb.png")

    image, mask = nodes.LoadImage().load_image("rgb.png")

    assert image.shape == (1, 3, 5, 3)
    assert mask.shape == (1, 64, 64) and mask.abs().sum() == 0


def test_load_image_reads_annotated_names_from_output_folder(folders):
    Image.new("RGB", (2, 2), (255, 255, 255)).save(folders["output"] / "out.png")

    image, _ = nodes.LoadImage().load_image("out.png [output]")

    assert torch.all(image == 1.0)


def test_load_image_stacks_frames_of_animated_files(folders):
    frames = [Image.new("RGB", (4, 4), color) for color in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    frames[0].save(folders["input"] / "anim.gif", save_all=True, append_images=frames[1:], duration=50)

    image, mask = nodes.LoadImage().load_image("anim.gif")

    assert image.shape == (3, 4, 4, 3)
    assert mask.shape[0] == 3
    assert image[1, 0, 0, 2] > 0.9 and image[1, 0, 0, 0] < 0.1


def test_load_image_applies_exif_orientation(folders):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (8, 2)).save(folders["input"] / "rotated.jpg", exif=exif.tobytes())

    image, _ = nodes.LoadImage().load_image("rotated.jpg")

    assert image.shape == (1, 8, 2, 3)


def test_load_image_is_changed_is_sha256_that_follows_file_content(folders):
    path = folders["input"] / "x.png"
    write_rgba(path, alpha=10)
    before = nodes.LoadImage.IS_CHANGED("x.png")
    write_rgba(path, alpha=200)
    after = nodes.LoadImage.IS_CHANGED("x.png")

    import hashlib

    assert after == hashlib.sha256(path.read_bytes()).hexdigest()
    assert before != after


def test_load_image_validate_inputs_reports_missing_file(folders):
    write_rgba(folders["input"] / "here.png")

    assert nodes.LoadImage.VALIDATE_INPUTS("here.png") is True
    assert nodes.LoadImage.VALIDATE_INPUTS("gone.png") == "Invalid image file: gone.png"


def test_load_image_mask_reads_channel_and_inverts_alpha(folders):
    array = np.zeros((3, 2, 4), dtype=np.uint8)
    array[..., 0] = 51
    array[..., 3] = 255
    Image.fromarray(array, "RGBA").save(folders["input"] / "m.png")

    (red,) = nodes.LoadImageMask().load_image("m.png", "red")
    (alpha,) = nodes.LoadImageMask().load_image("m.png", "alpha")

    assert red.shape == (1, 3, 2) and torch.allclose(red, torch.full((1, 3, 2), 0.2))
    assert torch.all(alpha == 0.0)
    assert nodes.LoadImageMask.INPUT_TYPES()["required"]["channel"] == (["alpha", "red", "green", "blue"],)


def test_load_image_output_reads_from_output_folder(folders):
    Image.new("RGB", (2, 3), (0, 0, 0)).save(folders["output"] / "o.png")

    image, _ = nodes.LoadImageOutput().load_image_output("o.png")

    assert image.shape == (1, 3, 2, 3)
    assert nodes.LoadImageOutput.VALIDATE_INPUTS("o.png") is True
    assert nodes.LoadImageOutput.VALIDATE_INPUTS("missing.png") == "Invalid image file: missing.png"


# --- pixel transforms ----------------------------------------------------------------------------------------


def test_empty_image_fills_batch_with_the_colour():
    (image,) = nodes.EmptyImage().generate(width=3, height=2, batch_size=2, color=0xFF8000)

    assert image.shape == (2, 2, 3, 3)
    assert torch.allclose(image[1, 1, 2], torch.tensor([1.0, 128 / 255, 0.0]))


def test_image_scale_resizes_and_keeps_aspect_when_one_side_is_zero():
    image = gradient(height=8, width=12)

    (exact,) = nodes.ImageScale().upscale(image, "bilinear", 6, 4, "disabled")
    (by_width,) = nodes.ImageScale().upscale(image, "nearest-exact", 24, 0, "disabled")
    (unchanged,) = nodes.ImageScale().upscale(image, "area", 0, 0, "disabled")

    assert exact.shape == (1, 4, 6, 3)
    assert by_width.shape == (1, 16, 24, 3)
    assert unchanged is image


def test_image_scale_center_crop_keeps_the_middle():
    image = torch.zeros(1, 4, 8, 3)
    image[:, :, 2:6] = 1.0

    (cropped,) = nodes.ImageScale().upscale(image, "nearest-exact", 4, 4, "center")

    assert cropped.shape == (1, 4, 4, 3) and torch.all(cropped == 1.0)


def test_image_scale_by_multiplies_both_sides():
    (image,) = nodes.ImageScaleBy().upscale(gradient(height=8, width=12), "lanczos", 0.5)

    assert image.shape == (1, 4, 6, 3)


def test_image_invert_returns_one_minus_image():
    image = gradient()

    (inverted,) = nodes.ImageInvert().invert(image)

    assert torch.allclose(inverted, 1.0 - image)


def test_image_batch_resizes_second_image_to_the_first():
    (batch,) = nodes.ImageBatch().batch(torch.zeros(1, 8, 8, 3), torch.ones(2, 4, 4, 3))

    assert batch.shape == (3, 8, 8, 3)
    assert torch.all(batch[0] == 0) and torch.allclose(batch[1:], torch.ones(2, 8, 8, 3))


def test_image_batch_adds_alpha_to_the_image_without_one():
    (batch,) = nodes.ImageBatch().batch(torch.zeros(1, 2, 2, 3), torch.zeros(1, 2, 2, 4))

    assert batch.shape == (2, 2, 2, 4)
    assert torch.all(batch[0, ..., 3] == 1.0)


def test_image_pad_for_outpaint_pads_with_grey_and_feathers_mask():
    image = torch.zeros(1, 10, 10, 3)

    padded, mask = nodes.ImagePadForOutpaint().expand_image(image, left=4, top=0, right=0, bottom=2, feathering=2)

    assert padded.shape == (1, 12, 14, 3)
    assert torch.all(padded[:, :, :4] == 0.5) and torch.all(padded[:, :10, 4:] == 0.0)
    assert mask.shape == (1, 12, 14)
    assert torch.all(mask[0, :, :4] == 1.0) and torch.all(mask[0, 10:, :] == 1.0)
    # Inside the image: column 0 borders the left padding, so (2 - 0)/2 squared; distance 2 is clear.
    assert mask[0, 0, 4] == 1.0 and mask[0, 0, 5] == 0.25 and mask[0, 0, 6] == 0.0
    # The top was not padded, so only the bottom edge feathers rows: row 9 is 1 away from the bottom.
    assert mask[0, 9, 9] == 0.25 and mask[0, 5, 9] == 0.0


def test_image_pad_for_outpaint_without_feathering_has_hard_mask_edge():
    _, mask = nodes.ImagePadForOutpaint().expand_image(torch.zeros(1, 4, 4, 3), 0, 8, 0, 0, 0)

    assert torch.all(mask[0, :8] == 1.0) and torch.all(mask[0, 8:] == 0.0)


# --- registry and module-level contract ----------------------------------------------------------------------


def test_registry_maps_core_names_with_comfyui_display_names_and_categories():
    expected = {
        "SaveImage": ("Save Image", "image"), "PreviewImage": ("Preview Image", "image"),
        "LoadImage": ("Load Image", "image"), "LoadImageMask": ("Load Image (as Mask)", "mask"),
        "EmptyLatentImage": ("Empty Latent Image", "latent"), "ImageScale": ("Upscale Image", "image/upscaling"),
        "LatentFromBatch": ("Latent From Batch", "latent/batch"), "SaveLatent": (None, "_for_testing"),
    }
    for name, (display, category) in expected.items():
        assert nodes.NODE_CLASS_MAPPINGS[name].CATEGORY == category
        assert nodes.NODE_DISPLAY_NAME_MAPPINGS.get(name) == display
    assert nodes.MAX_RESOLUTION == 16384


def test_core_classes_leave_python_module_to_the_loader():
    # The classes of nodes.py itself; comfy_extras classes get theirs from the loader once another test loads them.
    for cls in nodes.NODE_CLASS_MAPPINGS.values():
        if cls.__module__.startswith("comfy_extras") or "/comfy_extras/" in cls.__module__:
            continue
        assert "RELATIVE_PYTHON_MODULE" not in vars(cls)
        assert isinstance(cls.INPUT_TYPES(), dict)
        assert callable(getattr(cls, cls.FUNCTION))


def test_interrupt_processing_makes_before_node_execution_raise_once():
    nodes.interrupt_processing()

    with pytest.raises(model_management.InterruptProcessingException):
        nodes.before_node_execution()
    nodes.before_node_execution()  # the flag was consumed


def test_interrupt_processing_false_clears_the_flag():
    nodes.interrupt_processing(True)
    nodes.interrupt_processing(False)

    nodes.before_node_execution()
