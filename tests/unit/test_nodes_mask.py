"""Mask nodes in comfy_extras/nodes_mask.py, called directly."""

from __future__ import annotations

import pytest
import torch

from comfy_extras import nodes_mask


def test_solid_mask_is_one_mask_filled_with_value():
    (mask,) = nodes_mask.SolidMask().solid(value=0.25, width=5, height=3)

    assert mask.shape == (1, 3, 5) and mask.dtype == torch.float32
    assert torch.all(mask == 0.25)


def test_invert_mask_returns_one_minus_mask():
    mask = torch.tensor([[[0.0, 0.25], [1.0, 0.5]]])

    (inverted,) = nodes_mask.InvertMask().invert(mask)

    assert torch.equal(inverted, torch.tensor([[[1.0, 0.75], [0.0, 0.5]]]))


def test_mask_to_image_repeats_mask_into_three_channels():
    mask = torch.rand(2, 3, 4)

    (image,) = nodes_mask.MaskToImage().mask_to_image(mask)

    assert image.shape == (2, 3, 4, 3)
    for channel in range(3):
        assert torch.equal(image[..., channel], mask)


def test_mask_to_image_accepts_a_single_2d_mask():
    (image,) = nodes_mask.MaskToImage().mask_to_image(torch.ones(3, 4))

    assert image.shape == (1, 3, 4, 3)


@pytest.mark.parametrize("channel, index", [("red", 0), ("green", 1), ("blue", 2), ("alpha", 3)])
def test_image_to_mask_takes_the_named_channel(channel, index):
    image = torch.arange(4, dtype=torch.float32).expand(2, 3, 5, 4) / 4

    (mask,) = nodes_mask.ImageToMask().image_to_mask(image, channel)

    assert mask.shape == (2, 3, 5) and torch.all(mask == index / 4)


def test_image_to_mask_alpha_of_rgb_image_names_the_problem():
    with pytest.raises(ValueError, match="no 'alpha' channel"):
        nodes_mask.ImageToMask().image_to_mask(torch.zeros(1, 2, 2, 3), "alpha")


def test_image_color_to_mask_marks_pixels_of_exactly_that_colour():
    image = torch.zeros(1, 1, 2, 3)
    image[0, 0, 1] = torch.tensor([1.0, 128 / 255, 0.0])

    (mask,) = nodes_mask.ImageColorToMask().image_to_mask(image, 0xFF8000)

    assert mask.tolist() == [[[0.0, 1.0]]]


def test_threshold_mask_is_binary_above_value():
    (mask,) = nodes_mask.ThresholdMask().image_to_mask(torch.tensor([[[0.2, 0.5, 0.7]]]), 0.5)

    assert mask.tolist() == [[[0.0, 0.0, 1.0]]]


def test_crop_mask_cuts_the_window():
    mask = torch.arange(16, dtype=torch.float32).reshape(1, 4, 4)

    (cropped,) = nodes_mask.CropMask().crop(mask, x=1, y=2, width=2, height=5)

    assert cropped.tolist() == [[[9.0, 10.0], [13.0, 14.0]]]


def test_mask_module_registers_comfyui_names_in_mask_category():
    assert set(nodes_mask.NODE_CLASS_MAPPINGS) >= {"SolidMask", "InvertMask", "MaskToImage", "ImageToMask"}
    assert nodes_mask.NODE_DISPLAY_NAME_MAPPINGS["ImageToMask"] == "Convert Image to Mask"
    assert nodes_mask.NODE_DISPLAY_NAME_MAPPINGS["MaskToImage"] == "Convert Mask to Image"
    # As in ComfyUI, the module's two compositing nodes sit with images and latents.
    categories = {name: cls.CATEGORY for name, cls in nodes_mask.NODE_CLASS_MAPPINGS.items()}
    assert categories.pop("ImageCompositeMasked") == "image" and categories.pop("LatentCompositeMasked") == "latent"
    assert set(categories.values()) == {"mask"}
