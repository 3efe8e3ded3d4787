"""Images in and out: /upload/image, LoadImage, SaveImage and PreviewImage naming, and /view (annotated names,
subfolders, webp previews), each image decoded with PIL."""

from __future__ import annotations

import json
import re

import pytest

from .graphs import fresh, link, node
from .images import gradient_rgba, png_bytes, solid_png

pytestmark = pytest.mark.asyncio


def _close(actual: tuple, expected: tuple, tolerance: int = 1) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


async def test_save_image_writes_counted_pngs_with_prompt_metadata_served_by_view(client, server):
    stem = f"save_{fresh()}"
    prompt = {
        "1": node("EmptyImage", width=24, height=16, batch_size=2, color=0xFF8000),
        "2": node("SaveImage", images=link(1), filename_prefix=f"kiln_e2e/{stem}"),
    }
    workflow = {"nodes": [], "kiln": stem}
    run = await client.run(prompt, extra_data={"extra_pnginfo": {"workflow": workflow}})
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    images = run.outputs()["2"]["images"]
    assert images == [{"filename": f"{stem}_0000{index}_.png", "subfolder": "kiln_e2e", "type": "output"}
                      for index in (1, 2)]
    assert run.of_type("executed")[0]["output"] == {"images": images}
    for image in images:
        assert (server.output_dir / "kiln_e2e" / image["filename"]).is_file()
        decoded = await client.view_image(image)
        assert decoded.format == "PNG"
        assert decoded.size == (24, 16)
        assert _close(decoded.convert("RGB").getpixel((5, 5)), (255, 128, 0))
        assert json.loads(decoded.text["prompt"]) == prompt
        assert json.loads(decoded.text["workflow"]) == workflow

    viewed = await client.view(images[0]["filename"], subfolder="kiln_e2e", type="output")
    assert f'filename="{images[0]["filename"]}"' in viewed.headers.get("Content-Disposition", "")

    # The counter continues from the files already in the folder.
    prompt["1"]["inputs"]["color"] = 0x00FF00
    again = await client.run(prompt)
    assert [image["filename"] for image in again.outputs()["2"]["images"]] == [
        f"{stem}_00003_.png", f"{stem}_00004_.png"]


async def test_save_image_substitutes_width_and_height_in_the_prefix(client):
    stem = f"size_{fresh()}"
    run = await client.run({
        "1": node("EmptyImage", width=40, height=24, batch_size=1, color=0),
        "2": node("SaveImage", images=link(1), filename_prefix=f"{stem}_%width%x%height%"),
    })
    assert run.outputs()["2"]["images"] == [{"filename": f"{stem}_40x24_00001_.png", "subfolder": "", "type": "output"}]


async def test_preview_image_saves_to_temp_with_a_random_suffix(client):
    run = await client.run({
        "1": node("EmptyImage", width=8, height=8, batch_size=1, color=fresh() % 0xFFFFFF),
        "2": node("PreviewImage", images=link(1)),
    })
    images = run.outputs()["2"]["images"]
    assert len(images) == 1
    assert re.fullmatch(r"ComfyUI_temp_[a-z]{5}_\d{5}_\.png", images[0]["filename"]), images
    assert images[0]["subfolder"] == "" and images[0]["type"] == "temp"
    assert (await client.view_image(images[0])).size == (8, 8)


async def test_uploaded_image_is_loaded_inverted_saved_and_viewed_as_png_and_webp(client, server):
    seed = fresh()
    source = gradient_rgba(16, 8, seed)
    name = f"kiln_upload_{seed}.png"
    upload = await client.upload_image(png_bytes(source), name)
    assert upload.status == 200, upload.body
    assert upload.json() == {"name": name, "subfolder": "", "type": "input"}
    assert (server.input_dir / name).read_bytes() == png_bytes(source)
    load_image_options = (await client.get_json("/object_info/LoadImage"))["LoadImage"]["input"]["required"]["image"]
    assert name in load_image_options[0]
    assert load_image_options[1].get("image_upload") is True

    stem = f"inverted_{seed}"
    run = await client.run({
        "1": node("LoadImage", image=name),
        "2": node("ImageInvert", image=link(1, 0)),
        "3": node("SaveImage", images=link(2), filename_prefix=stem),
        "4": node("MaskToImage", mask=link(1, 1)),
        "5": node("SaveImage", images=link(4), filename_prefix=f"{stem}_mask"),
    })
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    inverted_ref = run.outputs()["3"]["images"][0]
    assert inverted_ref == {"filename": f"{stem}_00001_.png", "subfolder": "", "type": "output"}

    inverted = (await client.view_image(inverted_ref)).convert("RGB")
    mask = (await client.view_image(run.outputs()["5"]["images"][0])).convert("RGB")
    assert inverted.size == mask.size == (16, 8)
    for x, y in [(0, 0), (7, 3), (15, 7), (3, 6)]:
        red, green, blue, alpha = source.getpixel((x, y))
        assert _close(inverted.getpixel((x, y)), (255 - red, 255 - green, 255 - blue)), (x, y)
        # LoadImage's mask is 1 - alpha.
        assert _close(mask.getpixel((x, y)), (255 - alpha,) * 3), (x, y)

    # An annotated name picks the folder, whatever `type` says.
    plain = await client.view(inverted_ref["filename"], type="output")
    annotated = await client.view(f"{inverted_ref['filename']} [output]", type="input")
    assert plain.status == annotated.status == 200
    assert annotated.body == plain.body

    preview = await client.view(inverted_ref["filename"], type="output", preview="webp;90")
    assert preview.status == 200
    assert preview.headers["Content-Type"].startswith("image/webp")
    webp = await client.view_image(inverted_ref, preview="webp;90")
    assert webp.format == "WEBP" and webp.size == (16, 8)


async def test_upload_keeps_the_name_for_identical_content_and_renames_different_content(client, server):
    seed = fresh()
    name = f"kiln_dup_{seed}.png"
    first = await client.upload_image(solid_png(seed), name)
    same = await client.upload_image(solid_png(seed), name)
    different = await client.upload_image(solid_png(seed + 1), name)
    assert first.json()["name"] == name
    assert same.json()["name"] == name
    assert different.json() == {"name": f"kiln_dup_{seed} (1).png", "subfolder": "", "type": "input"}
    assert (server.input_dir / f"kiln_dup_{seed} (1).png").read_bytes() == solid_png(seed + 1)


async def test_upload_with_overwrite_replaces_the_file_under_the_same_name(client, server):
    seed = fresh()
    name = f"kiln_overwrite_{seed}.png"
    assert (await client.upload_image(solid_png(seed), name)).json()["name"] == name
    replaced = await client.upload_image(solid_png(seed + 1), name, overwrite="true")
    assert replaced.json() == {"name": name, "subfolder": "", "type": "input"}
    assert (server.input_dir / name).read_bytes() == solid_png(seed + 1)


async def test_upload_into_a_subfolder_is_served_back_by_view(client):
    seed = fresh()
    name = f"kiln_sub_{seed}.png"
    upload = await client.upload_image(solid_png(seed), name, subfolder="kiln_e2e_sub", type="input")
    assert upload.json() == {"name": name, "subfolder": "kiln_e2e_sub", "type": "input"}
    viewed = await client.view(name, subfolder="kiln_e2e_sub", type="input")
    assert viewed.status == 200
    assert viewed.body == solid_png(seed)


async def test_view_of_a_missing_file_is_404(client):
    result = await client.view(f"kiln_missing_{fresh()}.png", type="output")
    assert result.status == 404


async def test_view_channel_a_returns_the_alpha_channel(client):
    seed = fresh()
    source = gradient_rgba(6, 5, seed)
    name = f"kiln_alpha_{seed}.png"
    assert (await client.upload_image(png_bytes(source), name)).status == 200
    alpha = await client.view_image({"filename": name, "subfolder": "", "type": "input"}, channel="a")
    assert alpha.format == "PNG" and alpha.mode == "RGBA"
    assert alpha.getpixel((4, 3))[3] == source.getpixel((4, 3))[3]
    rgb = await client.view_image({"filename": name, "subfolder": "", "type": "input"}, channel="rgb")
    assert rgb.mode == "RGB"
    assert rgb.getpixel((4, 3)) == source.getpixel((4, 3))[:3]

