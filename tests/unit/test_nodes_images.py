"""Image nodes in comfy_extras/nodes_images.py, called directly."""

from __future__ import annotations

import torch

from comfy_extras import nodes_images


def labelled(batch: int = 1, height: int = 4, width: int = 6) -> torch.Tensor:
    """An image whose red channel holds the pixel's row*100 + column, to recognise positions."""
    rows = torch.arange(height, dtype=torch.float32)[:, None] * 100
    cols = torch.arange(width, dtype=torch.float32)[None, :]
    return (rows + cols).expand(batch, height, width)[..., None].expand(batch, height, width, 3).clone()


def test_image_crop_takes_window_at_offset():
    (cropped,) = nodes_images.ImageCrop().crop(labelled(), width=2, height=3, x=1, y=1)

    assert cropped.shape == (1, 3, 2, 3)
    assert cropped[0, :, :, 0].tolist() == [[101.0, 102.0], [201.0, 202.0], [301.0, 302.0]]


def test_image_crop_past_the_edge_keeps_at_least_the_last_pixel():
    (cropped,) = nodes_images.ImageCrop().crop(labelled(), width=10, height=10, x=50, y=50)

    assert cropped.shape == (1, 1, 1, 3) and cropped[0, 0, 0, 0] == 305.0


def test_image_crop_category_and_display_name():
    assert nodes_images.ImageCrop.CATEGORY == "image/transform"
    assert nodes_images.NODE_DISPLAY_NAME_MAPPINGS["ImageCrop"] == "Image Crop"


def test_repeat_image_batch_repeats_whole_batch():
    images = torch.arange(2, dtype=torch.float32).reshape(2, 1, 1, 1).expand(2, 2, 2, 3)

    (repeated,) = nodes_images.RepeatImageBatch().repeat(images, amount=3)

    assert repeated[:, 0, 0, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]


def test_image_from_batch_slices_and_clamps():
    images = torch.arange(4, dtype=torch.float32).reshape(4, 1, 1, 1).expand(4, 2, 2, 3)

    (middle,) = nodes_images.ImageFromBatch().frombatch(images, batch_index=1, length=2)
    (last,) = nodes_images.ImageFromBatch().frombatch(images, batch_index=9, length=3)

    assert middle[:, 0, 0, 0].tolist() == [1.0, 2.0]
    assert last[:, 0, 0, 0].tolist() == [3.0]


def test_image_flip_x_axis_flips_rows_and_y_axis_flips_columns():
    image = labelled(height=2, width=3)

    (vertical,) = nodes_images.ImageFlip().flip(image, "x-axis: vertically")
    (horizontal,) = nodes_images.ImageFlip().flip(image, "y-axis: horizontally")

    assert vertical[0, :, 0, 0].tolist() == [100.0, 0.0]
    assert horizontal[0, 0, :, 0].tolist() == [2.0, 1.0, 0.0]


def test_image_rotate_90_degrees_turns_clockwise():
    image = labelled(height=2, width=3)

    (rotated,) = nodes_images.ImageRotate().rotate(image, "90 degrees")
    (unchanged,) = nodes_images.ImageRotate().rotate(image, "none")

    assert rotated.shape == (1, 3, 2, 3)
    # Clockwise: the bottom-left pixel (row 1, col 0) ends up top-left.
    assert rotated[0, 0, :, 0].tolist() == [100.0, 0.0]
    assert torch.equal(unchanged, image)


def test_get_image_size_returns_width_height_batch():
    assert nodes_images.GetImageSize().get_size(torch.zeros(5, 7, 9, 3)) == (9, 7, 5)
    assert nodes_images.GetImageSize.RETURN_NAMES == ("width", "height", "batch_size")
