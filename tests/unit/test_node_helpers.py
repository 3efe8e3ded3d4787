"""node_helpers: the names custom nodes import (pillow, hasher, conditioning_set_values) and the file helpers."""

from __future__ import annotations

import hashlib

import torch
from PIL import Image, ImageFile

import node_helpers
from comfy.cli_args import args


def test_pillow_retries_with_truncated_images_allowed_and_restores_the_flag():
    calls = []

    def flaky(argument):
        calls.append(ImageFile.LOAD_TRUNCATED_IMAGES)
        if not ImageFile.LOAD_TRUNCATED_IMAGES:
            raise OSError("image file is truncated")
        return argument * 2

    assert node_helpers.pillow(flaky, 21) == 42
    assert calls == [False, True]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_pillow_reads_a_cut_off_jpeg(tmp_path):
    path = tmp_path / "cut.jpg"
    noise = torch.Generator().manual_seed(0)
    pixels = (torch.rand(64, 64, 3, generator=noise) * 255).to(torch.uint8).numpy()
    Image.fromarray(pixels).save(path, quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    image = node_helpers.pillow(Image.open, str(path))
    loaded = node_helpers.pillow(lambda img: img.convert("RGB"), image)

    assert loaded.size == (64, 64)


def test_hasher_follows_default_hashing_function(monkeypatch):
    assert node_helpers.hasher() is hashlib.sha256
    monkeypatch.setattr(args, "default_hashing_function", "md5")
    assert node_helpers.hasher() is hashlib.md5


def test_conditioning_set_values_copies_option_dicts_and_shares_tensors():
    tensor = torch.zeros(1, 77, 768)
    conditioning = [[tensor, {"strength": 1.0}]]

    result = node_helpers.conditioning_set_values(conditioning, {"strength": 0.5, "area": (8, 8, 0, 0)})

    assert result[0][0] is tensor
    assert result[0][1] == {"strength": 0.5, "area": (8, 8, 0, 0)}
    assert conditioning[0][1] == {"strength": 1.0}


def test_conditioning_set_values_append_extends_existing_values():
    conditioning = [[torch.zeros(1), {"hooks": [1]}], [torch.zeros(1), {}]]

    result = node_helpers.conditioning_set_values(conditioning, {"hooks": [2]}, append=True)

    assert [entry[1]["hooks"] for entry in result] == [[1, 2], [2]]


def test_palette_image_transparency_becomes_the_mask(tmp_path):
    image = Image.new("P", (3, 2), 0)
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "p.png", transparency=0)

    _, mask = node_helpers.load_image_file(str(tmp_path / "p.png"))

    assert mask.tolist() == [[[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]]


def test_sixteen_bit_greyscale_is_scaled_into_range(tmp_path):
    Image.new("I;16", (2, 2), 65535).save(tmp_path / "deep.png")

    image, _ = node_helpers.load_image_file(str(tmp_path / "deep.png"))

    assert image.shape == (1, 2, 2, 3) and torch.allclose(image, torch.ones_like(image))
