"""Weightless core nodes driven through the API with ComfyUI's names and inputs: image and mask nodes,
list-producing RebatchImages, primitives, and the `/object_info` entry of a custom node loaded from the yaml."""

from __future__ import annotations

import pytest

from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio


def _close(actual: tuple, expected: tuple, tolerance: int = 1) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


async def _saved_images(client, run, node_id: str) -> list:
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    return [(await client.view_image(image)).convert("RGB") for image in run.outputs()[node_id]["images"]]


async def test_image_scale_and_image_batch_build_one_batch(client):
    run = await client.run({
        "1": node("EmptyImage", width=32, height=16, batch_size=1, color=0xFF0000),
        "2": node("EmptyImage", width=8, height=8, batch_size=1, color=0x0000FF),
        "3": node("ImageScale", image=link(2), upscale_method="nearest-exact", width=32, height=16, crop="disabled"),
        "4": node("ImageBatch", image1=link(1), image2=link(3)),
        "5": node("SaveImage", images=link(4), filename_prefix=f"kiln_batch_{fresh()}"),
    })
    images = await _saved_images(client, run, "5")
    assert [image.size for image in images] == [(32, 16), (32, 16)]
    assert _close(images[0].getpixel((3, 3)), (255, 0, 0))
    assert _close(images[1].getpixel((30, 14)), (0, 0, 255))


async def test_solid_mask_to_image_is_grey(client):
    run = await client.run({
        "1": node("SolidMask", value=0.5, width=12, height=10),
        "2": node("MaskToImage", mask=link(1)),
        "3": node("SaveImage", images=link(2), filename_prefix=f"kiln_mask_{fresh()}"),
    })
    (image,) = await _saved_images(client, run, "3")
    assert image.size == (12, 10)
    assert _close(image.getpixel((6, 5)), (127, 127, 127))


async def test_rebatch_images_outputs_a_list_that_save_image_maps_over(client):
    prefix = f"kiln_rebatch_{fresh()}"
    run = await client.run({
        "1": node("EmptyImage", width=8, height=8, batch_size=5, color=0x00FF00),
        "2": node("RebatchImages", images=link(1), batch_size=2),
        "3": node("SaveImage", images=link(2), filename_prefix=prefix),
    })
    images = run.outputs()["3"]["images"]
    assert [image["filename"] for image in images] == [f"{prefix}_{index:05d}_.png" for index in range(1, 6)]
    assert all(image.size == (8, 8) for image in await _saved_images(client, run, "3"))


async def test_primitive_int_and_string_feed_other_nodes(client):
    value = fresh()
    run = await client.run({
        "1": node("PrimitiveInt", value=value),
        "2": node("KilnTestIntOutput", value=link(1)),
        "3": node("PrimitiveString", value="kiln"),
        "4": node("KilnTestStringOutput", text=link(3)),
    })
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert run.outputs() == {"2": {"value": [value]}, "4": {"length": [4]}}


async def test_object_info_describes_a_custom_node_loaded_from_the_yaml(client):
    info = await client.get_json("/object_info/KilnTestBounded")
    entry = info["KilnTestBounded"]
    assert list(entry) == ["input", "input_order", "output", "output_is_list", "output_name", "name", "display_name",
                           "description", "python_module", "category", "output_node"]
    assert entry == {
        "input": {"required": {"value": ["INT", {"default": 50, "min": 0, "max": 100}]}},
        "input_order": {"required": ["value"]},
        "output": ["INT"],
        "output_is_list": [False],
        "output_name": ["INT"],
        "name": "KilnTestBounded",
        "display_name": "Kiln Test Bounded",
        "description": "",
        "python_module": "custom_nodes.kiln-test-nodes",
        "category": "kiln_test",
        "output_node": False,
    }
    assert await client.get_json("/object_info/KilnTestNoSuchNode") == {}
    everything = await client.get_json("/object_info")
    assert everything["KilnTestBounded"] == entry
    assert {"SaveImage", "LoadImage", "KilnTestForLoop", "KilnTestAsyncSleep"} <= set(everything)


async def test_object_info_of_save_image_has_comfyui_inputs_and_hidden_inputs(client):
    entry = (await client.get_json("/object_info/SaveImage"))["SaveImage"]
    required = entry["input"]["required"]
    assert list(required) == ["images", "filename_prefix"]
    assert required["images"][0] == "IMAGE"
    assert required["filename_prefix"][0] == "STRING" and required["filename_prefix"][1]["default"] == "ComfyUI"
    assert entry["input"]["hidden"] == {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    assert entry["input_order"] == {"required": ["images", "filename_prefix"], "hidden": ["prompt", "extra_pnginfo"]}
    assert entry["output"] == [] and entry["output_node"] is True
    assert entry["python_module"] == "nodes" and entry["category"] == "image"
    assert entry["display_name"] == "Save Image"
