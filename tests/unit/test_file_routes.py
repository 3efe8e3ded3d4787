"""GET /view, POST /upload/image and POST /upload/mask on a tiny app built with `add_file_routes`."""

from __future__ import annotations

import io
import json
import os
from types import SimpleNamespace

import pytest
import pytest_asyncio
from aiohttp import FormData, web
from PIL import Image, PngImagePlugin

import folder_paths
from app.file_routes import add_file_routes

pytestmark = pytest.mark.asyncio


@pytest.fixture
def folders(tmp_path):
    """input/, output/ and temp/ under tmp_path, plus outside/ that no route may reach; restores the real ones."""
    saved = (folder_paths.get_input_directory(), folder_paths.get_output_directory(),
             folder_paths.get_temp_directory())
    paths = SimpleNamespace(**{name: tmp_path / name for name in ("input", "output", "temp", "outside")})
    for path in vars(paths).values():
        path.mkdir()
    folder_paths.set_input_directory(str(paths.input))
    folder_paths.set_output_directory(str(paths.output))
    folder_paths.set_temp_directory(str(paths.temp))
    yield paths
    folder_paths.set_input_directory(saved[0])
    folder_paths.set_output_directory(saved[1])
    folder_paths.set_temp_directory(saved[2])


@pytest_asyncio.fixture
async def client(aiohttp_client, folders):
    routes = web.RouteTableDef()
    add_file_routes(routes)
    app = web.Application()
    app.add_routes(routes)
    return await aiohttp_client(app)


def png_bytes(color=(200, 100, 50, 128), size=(4, 3), mode="RGBA", text: dict | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.new(mode, size, color[: len(mode)]).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def write_png(path, **options) -> bytes:
    data = png_bytes(**options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


async def assert_json_error(response, status: int, error_type: str) -> dict:
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]
    assert body["node_errors"] == {}
    return body


def image_form(data: bytes, filename: str = "a.png", **fields: str) -> FormData:
    form = FormData()
    form.add_field("image", data, filename=filename, content_type="image/png")
    for key, value in fields.items():
        form.add_field(key, value)
    return form


# ---------------------------------------------------------------------------------------------------------------
# GET /view: valid requests


async def test_view_serves_output_file_by_default_with_png_type_disposition_and_nosniff(client, folders):
    data = write_png(folders.output / "a.png")
    response = await client.get("/view", params={"filename": "a.png"})
    assert response.status == 200
    assert await response.read() == data
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'filename="a.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_view_annotated_filename_overrides_the_type_parameter(client, folders):
    data = write_png(folders.input / "a.png", color=(1, 2, 3, 4))
    write_png(folders.output / "a.png", color=(9, 9, 9, 9))
    response = await client.get("/view", params={"filename": "a.png [input]", "type": "output"})
    assert response.status == 200
    assert await response.read() == data


async def test_view_type_selects_the_temp_directory(client, folders):
    data = write_png(folders.temp / "t.png")
    response = await client.get("/view", params={"filename": "t.png", "type": "temp"})
    assert response.status == 200
    assert await response.read() == data


async def test_view_reads_from_the_subfolder(client, folders):
    data = write_png(folders.output / "run" / "deep" / "a.png")
    response = await client.get("/view", params={"filename": "a.png", "subfolder": "run/deep"})
    assert response.status == 200
    assert await response.read() == data


async def test_view_serves_only_the_basename_of_a_filename_with_folders(client, folders):
    data = write_png(folders.output / "a.png", color=(5, 5, 5, 5))
    write_png(folders.output / "sub" / "a.png", color=(7, 7, 7, 7))
    response = await client.get("/view", params={"filename": "sub/a.png"})
    assert response.status == 200
    assert await response.read() == data


async def test_view_follows_a_symlink_that_stays_inside_the_directory(client, folders):
    data = write_png(folders.output / "real.png")
    os.symlink(folders.output / "real.png", folders.output / "link.png")
    response = await client.get("/view", params={"filename": "link.png"})
    assert response.status == 200
    assert await response.read() == data


@pytest.mark.parametrize(("preview", "expected_format", "pil_format"), [
    ("webp;90", "webp", "WEBP"), ("jpeg;85", "jpeg", "JPEG"), ("jpeg", "jpeg", "JPEG"), ("gif;50", "webp", "WEBP"),
])
async def test_view_preview_reencodes_as_webp_or_jpeg(client, folders, preview, expected_format, pil_format):
    write_png(folders.output / "a.png", size=(16, 8))
    response = await client.get("/view", params={"filename": "a.png", "preview": preview})
    assert response.status == 200
    assert response.headers["Content-Type"] == f"image/{expected_format}"
    assert response.headers["Content-Disposition"] == 'filename="a.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(await response.read())) as image:
        assert image.format == pil_format
        assert image.size == (16, 8)


async def test_view_preview_quality_changes_the_encoding(client, folders):
    noise = Image.effect_noise((64, 64), 60).convert("RGB")
    noise.save(folders.output / "noise.png")
    low = await client.get("/view", params={"filename": "noise.png", "preview": "jpeg;5"})
    high = await client.get("/view", params={"filename": "noise.png", "preview": "jpeg;95"})
    assert len(await low.read()) < len(await high.read())


async def test_view_preview_with_alpha_channel_forces_webp(client, folders):
    write_png(folders.output / "a.png")
    response = await client.get("/view", params={"filename": "a.png", "preview": "jpeg;85", "channel": "rgba"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/webp"


async def test_view_channel_rgb_answers_png_without_alpha(client, folders):
    write_png(folders.output / "a.png", color=(200, 100, 50, 7))
    response = await client.get("/view", params={"filename": "a.png", "channel": "rgb"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(await response.read())) as image:
        assert image.mode == "RGB"
        assert image.getpixel((0, 0)) == (200, 100, 50)


async def test_view_channel_a_answers_black_rgba_png_carrying_the_source_alpha(client, folders):
    write_png(folders.output / "a.png", color=(200, 100, 50, 7))
    response = await client.get("/view", params={"filename": "a.png", "channel": "a"})
    assert response.status == 200
    with Image.open(io.BytesIO(await response.read())) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0)) == (0, 0, 0, 7)


async def test_view_channel_a_of_an_image_without_alpha_is_opaque(client, folders):
    write_png(folders.output / "a.png", mode="RGB")
    response = await client.get("/view", params={"filename": "a.png", "channel": "a"})
    with Image.open(io.BytesIO(await response.read())) as image:
        assert image.getpixel((1, 1)) == (0, 0, 0, 255)


async def test_view_names_a_non_ascii_or_quoted_file_in_the_disposition(client, folders):
    data = write_png(folders.output / 'é "q".png')
    response = await client.get("/view", params={"filename": 'é "q".png'})
    assert response.status == 200
    assert await response.read() == data
    assert response.headers["Content-Disposition"] == 'filename="é \\"q\\".png"'


@pytest.mark.parametrize("name", ["page.html", "page.htm", "script.js", "style.css", "page.xhtml", "image.svg",
                                  "feed.xml", "doc.pdf", "notes.txt", "PAGE.HTML", "no_extension", "data.bin"])
async def test_view_serves_active_and_unknown_content_as_an_octet_stream_attachment(client, folders, name):
    (folders.output / name).write_text("<script>alert(1)</script>")
    response = await client.get("/view", params={"filename": name})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert await response.read() == b"<script>alert(1)</script>"


@pytest.mark.parametrize(("name", "content_type"), [("clip.mp4", "video/mp4"), ("clip.webm", "video/webm"),
                                                    ("sound.flac", "audio/flac"), ("sound.mp3", "audio/mpeg"),
                                                    ("photo.JPG", "image/jpeg"), ("graph.json", "application/json")])
async def test_view_serves_safe_media_inline_with_its_type(client, folders, name, content_type):
    (folders.output / name).write_bytes(b"\x00media")
    response = await client.get("/view", params={"filename": name})
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == f'filename="{name}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_view_preview_of_an_html_named_image_is_a_reencoded_image(client, folders):
    write_png(folders.output / "trick.html")
    response = await client.get("/view", params={"filename": "trick.html", "preview": "webp;50"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ---------------------------------------------------------------------------------------------------------------
# GET /view: bad requests


async def test_view_without_filename_is_404(client, folders):
    await assert_json_error(await client.get("/view"), 404, "missing_filename")


@pytest.mark.parametrize("filename", ["", " [output]"])
async def test_view_with_empty_filename_is_400(client, folders, filename):
    await assert_json_error(await client.get("/view", params={"filename": filename}), 400, "invalid_filename")


@pytest.mark.parametrize("filename", ["../secret.png", "a/../../secret.png", "..", "x..png"])
async def test_view_filename_containing_dot_dot_is_400(client, folders, filename):
    await assert_json_error(await client.get("/view", params={"filename": filename}), 400, "invalid_filename")


async def test_view_absolute_filename_is_400(client, folders):
    write_png(folders.outside / "secret.png")
    response = await client.get("/view", params={"filename": str(folders.outside / "secret.png")})
    await assert_json_error(response, 400, "invalid_filename")


@pytest.mark.parametrize("filename", ["..\\secret.png", "a\x00.png", "a\n.png", "a\x7f.png"])
async def test_view_filename_with_backslash_or_control_character_is_400(client, folders, filename):
    await assert_json_error(await client.get("/view", params={"filename": filename}), 400, "invalid_filename")


@pytest.mark.parametrize("file_type", ["models", "", "../output"])
async def test_view_unknown_type_is_400(client, folders, file_type):
    write_png(folders.output / "a.png")
    response = await client.get("/view", params={"filename": "a.png", "type": file_type})
    await assert_json_error(response, 400, "invalid_type")


@pytest.mark.parametrize("subfolder", ["..", "../outside", "a/../../outside"])
async def test_view_subfolder_escaping_the_directory_is_403(client, folders, subfolder):
    write_png(folders.outside / "a.png")
    response = await client.get("/view", params={"filename": "a.png", "subfolder": subfolder})
    await assert_json_error(response, 403, "path_outside_directory")


@pytest.mark.parametrize("subfolder", ["/tmp", "..\\outside", "a\x00"])
async def test_view_absolute_or_malformed_subfolder_is_400(client, folders, subfolder):
    response = await client.get("/view", params={"filename": "a.png", "subfolder": subfolder})
    await assert_json_error(response, 400, "invalid_subfolder")


async def test_view_symlinked_file_pointing_outside_is_403(client, folders):
    write_png(folders.outside / "secret.png")
    os.symlink(folders.outside / "secret.png", folders.output / "leak.png")
    response = await client.get("/view", params={"filename": "leak.png"})
    await assert_json_error(response, 403, "path_outside_directory")


async def test_view_symlinked_subfolder_pointing_outside_is_403(client, folders):
    write_png(folders.outside / "secret.png")
    os.symlink(folders.outside, folders.output / "door")
    response = await client.get("/view", params={"filename": "secret.png", "subfolder": "door"})
    await assert_json_error(response, 403, "path_outside_directory")


async def test_view_missing_file_is_404(client, folders):
    response = await client.get("/view", params={"filename": "nope.png"})
    await assert_json_error(response, 404, "file_not_found")


async def test_view_of_a_directory_is_404(client, folders):
    (folders.output / "folder").mkdir()
    response = await client.get("/view", params={"filename": "folder"})
    await assert_json_error(response, 404, "file_not_found")


@pytest.mark.parametrize("params", [{"preview": "webp;90"}, {"channel": "rgb"}, {"channel": "a"}])
async def test_view_reencoding_a_file_that_is_not_an_image_is_400(client, folders, params):
    (folders.output / "notes.png").write_text("not an image")
    response = await client.get("/view", params={"filename": "notes.png", **params})
    await assert_json_error(response, 400, "invalid_image")


# ---------------------------------------------------------------------------------------------------------------
# POST /upload/image: valid requests


async def test_upload_stores_in_input_by_default_and_answers_name_subfolder_type(client, folders):
    data = png_bytes()
    response = await client.post("/upload/image", data=image_form(data))
    assert response.status == 200
    assert await response.json() == {"name": "a.png", "subfolder": "", "type": "input"}
    assert (folders.input / "a.png").read_bytes() == data


async def test_upload_of_same_name_and_same_content_reuses_the_name_without_rewriting(client, folders):
    data = png_bytes()
    await client.post("/upload/image", data=image_form(data))
    os.utime(folders.input / "a.png", (0, 0))
    response = await client.post("/upload/image", data=image_form(data))
    assert (await response.json())["name"] == "a.png"
    assert sorted(os.listdir(folders.input)) == ["a.png"]
    assert os.stat(folders.input / "a.png").st_mtime == 0


async def test_upload_of_same_name_and_different_content_numbers_the_copies(client, folders):
    first, second, third = png_bytes(color=(1, 1, 1, 1)), png_bytes(color=(2, 2, 2, 2)), png_bytes(color=(3, 3, 3, 3))
    names = []
    for data in (first, second, third, second):
        response = await client.post("/upload/image", data=image_form(data))
        names.append((await response.json())["name"])
    assert names == ["a.png", "a (1).png", "a (2).png", "a (1).png"]
    assert (folders.input / "a (1).png").read_bytes() == second
    assert (folders.input / "a.png").read_bytes() == first


@pytest.mark.parametrize("overwrite", ["true", "1"])
async def test_upload_with_overwrite_replaces_the_file_under_the_same_name(client, folders, overwrite):
    write_png(folders.input / "a.png", color=(1, 1, 1, 1))
    data = png_bytes(color=(2, 2, 2, 2))
    response = await client.post("/upload/image", data=image_form(data, overwrite=overwrite))
    assert (await response.json())["name"] == "a.png"
    assert (folders.input / "a.png").read_bytes() == data
    assert sorted(os.listdir(folders.input)) == ["a.png"]


@pytest.mark.parametrize("file_type", ["temp", "output"])
async def test_upload_to_temp_or_output_creates_the_subfolder_and_echoes_it(client, folders, file_type):
    data = png_bytes()
    response = await client.post("/upload/image", data=image_form(data, type=file_type, subfolder="masks/x"))
    assert response.status == 200
    assert await response.json() == {"name": "a.png", "subfolder": "masks/x", "type": file_type}
    assert (getattr(folders, file_type) / "masks" / "x" / "a.png").read_bytes() == data


async def test_upload_name_with_double_dot_that_is_not_a_path_is_stored(client, folders):
    response = await client.post("/upload/image", data=image_form(png_bytes(), filename="photo..png"))
    assert (await response.json())["name"] == "photo..png"
    assert (folders.input / "photo..png").exists()


async def test_upload_overwrite_replaces_a_symlink_instead_of_writing_through_it(client, folders):
    secret = folders.outside / "secret.png"
    secret.write_bytes(b"keep me")
    os.symlink(secret, folders.input / "a.png")
    response = await client.post("/upload/image", data=image_form(png_bytes(), overwrite="true"))
    assert response.status == 200
    assert secret.read_bytes() == b"keep me"
    assert not (folders.input / "a.png").is_symlink()


async def test_upload_does_not_compare_against_a_symlink_pointing_outside(client, folders):
    data = png_bytes()
    (folders.outside / "secret.png").write_bytes(data)
    os.symlink(folders.outside / "secret.png", folders.input / "a.png")
    response = await client.post("/upload/image", data=image_form(data))
    assert (await response.json())["name"] == "a (1).png"


# ---------------------------------------------------------------------------------------------------------------
# POST /upload/image: bad requests


async def test_upload_without_file_is_400(client, folders):
    form = FormData()
    form.add_field("type", "input")
    form.add_field("image", "just text")
    await assert_json_error(await client.post("/upload/image", data=form), 400, "missing_image")


async def test_upload_with_a_json_body_is_400(client, folders):
    response = await client.post("/upload/image", json={"image": "a.png"})
    await assert_json_error(response, 400, "missing_image")


def raw_upload_body(quoted_filename: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body with the file name written as given, as browsers and curl send it (aiohttp's own client
    percent-encodes names, so it cannot send a name with a path)."""
    boundary = "kiln-test-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{quoted_filename}"\r\n'
            "Content-Type: image/png\r\n\r\n")
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_upload_with_a_raw_multipart_body_keeps_the_browser_file_name(client, folders):
    body, headers = raw_upload_body("\u00e9t\u00e9.png", png_bytes())
    response = await client.post("/upload/image", data=body, headers=headers)
    assert (await response.json())["name"] == "\u00e9t\u00e9.png"
    assert (folders.input / "\u00e9t\u00e9.png").exists()


# a quoted-string in Content-Disposition escapes a backslash as two
@pytest.mark.parametrize("quoted_filename", ["../evil.png", "sub/evil.png", "..", "a\\\\evil.png", "/tmp/evil.png",
                                             "..\\\\evil.png", "evil\x00.png"])
async def test_upload_filename_with_a_path_is_400(client, folders, quoted_filename):
    body, headers = raw_upload_body(quoted_filename, png_bytes())
    response = await client.post("/upload/image", data=body, headers=headers)
    # aiohttp refuses a NUL in a part's header before the route sees the name
    await assert_json_error(response, 400, "invalid_form" if "\x00" in quoted_filename else "invalid_filename")
    assert not (folders.input.parent / "evil.png").exists()


@pytest.mark.parametrize("data", [b"not an image", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  b"<html><script>alert(1)</script></html>", b"", png_bytes()[:40]])
async def test_upload_of_bytes_that_do_not_decode_as_an_image_is_400(client, folders, data):
    response = await client.post("/upload/image", data=image_form(data, filename="a.png"))
    await assert_json_error(response, 400, "invalid_image")
    assert os.listdir(folders.input) == []


async def test_upload_of_an_eps_file_is_refused_without_running_ghostscript(client, folders):
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    response = await client.post("/upload/image", data=image_form(eps, filename="a.eps"))
    await assert_json_error(response, 400, "invalid_image")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_upload_of_a_decompression_bomb_is_400(client, folders, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    response = await client.post("/upload/image", data=image_form(png_bytes(size=(11, 10))))
    await assert_json_error(response, 400, "image_too_large")
    assert os.listdir(folders.input) == []


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP", "GIF", "BMP", "TIFF"])
async def test_upload_of_common_image_formats_is_stored(client, folders, image_format):
    buffer = io.BytesIO()
    Image.new("RGB", (5, 4), (9, 8, 7)).save(buffer, format=image_format)
    response = await client.post("/upload/image", data=image_form(buffer.getvalue(), filename="a.img"))
    assert response.status == 200
    assert (folders.input / "a.img").read_bytes() == buffer.getvalue()


async def test_upload_with_a_file_as_the_subfolder_field_is_400(client, folders):
    form = image_form(png_bytes())
    form.add_field("subfolder", b"x", filename="sub.txt")
    await assert_json_error(await client.post("/upload/image", data=form), 400, "invalid_form")


async def test_upload_mask_with_a_deeply_nested_original_ref_is_400(client, folders):
    response = await client.post("/upload/mask", data=mask_form(png_bytes(), "[" * 100000))
    await assert_json_error(response, 400, "invalid_original_ref")


async def test_upload_unknown_type_is_400(client, folders):
    response = await client.post("/upload/image", data=image_form(png_bytes(), type="models"))
    await assert_json_error(response, 400, "invalid_type")


@pytest.mark.parametrize("subfolder", ["..", "../outside", "/tmp/evil"])
async def test_upload_subfolder_escaping_the_directory_is_400(client, folders, subfolder):
    response = await client.post("/upload/image", data=image_form(png_bytes(), subfolder=subfolder))
    await assert_json_error(response, 400, "path_outside_directory" if not subfolder.startswith("/")
                            else "invalid_subfolder")
    assert os.listdir(folders.outside) == []


async def test_upload_into_a_symlinked_subfolder_pointing_outside_is_400(client, folders):
    os.symlink(folders.outside, folders.input / "door")
    response = await client.post("/upload/image", data=image_form(png_bytes(), subfolder="door"))
    await assert_json_error(response, 400, "path_outside_directory")
    assert os.listdir(folders.outside) == []


# ---------------------------------------------------------------------------------------------------------------
# POST /upload/mask


def mask_form(mask: bytes, original_ref: object, filename: str = "mask.png", **fields: str) -> FormData:
    reference = original_ref if isinstance(original_ref, str) else json.dumps(original_ref)
    return image_form(mask, filename=filename, original_ref=reference, **fields)


async def test_upload_mask_puts_the_mask_alpha_on_the_original_rgb_and_keeps_text_chunks(client, folders):
    write_png(folders.output / "orig.png", mode="RGB", color=(10, 20, 30), text={"prompt": "{}", "workflow": "w"})
    mask = png_bytes(color=(255, 255, 255, 33))
    response = await client.post("/upload/mask", data=mask_form(mask, {"filename": "orig.png", "type": "output"}))
    assert response.status == 200
    assert await response.json() == {"name": "mask.png", "subfolder": "", "type": "input"}
    with Image.open(folders.input / "mask.png") as stored:
        assert stored.format == "PNG"
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0)) == (10, 20, 30, 33)
        assert stored.text == {"prompt": "{}", "workflow": "w"}


async def test_upload_mask_finds_the_original_by_type_subfolder_and_annotation(client, folders):
    write_png(folders.input / "clip" / "orig.png", mode="RGB", color=(1, 2, 3))
    mask = png_bytes(color=(0, 0, 0, 200))
    reference = {"filename": "orig.png [input]", "subfolder": "clip", "type": "temp"}
    response = await client.post("/upload/mask", data=mask_form(mask, reference, subfolder="clip"))
    assert response.status == 200
    with Image.open(folders.input / "clip" / "mask.png") as stored:
        assert stored.getpixel((2, 2)) == (1, 2, 3, 200)


async def test_upload_mask_without_original_ref_is_400(client, folders):
    response = await client.post("/upload/mask", data=image_form(png_bytes(), filename="mask.png"))
    await assert_json_error(response, 400, "invalid_original_ref")


@pytest.mark.parametrize("reference", ["{not json", "[]", {"subfolder": ""}])
async def test_upload_mask_with_malformed_original_ref_is_400(client, folders, reference):
    response = await client.post("/upload/mask", data=mask_form(png_bytes(), reference))
    await assert_json_error(response, 400, "invalid_original_ref")


async def test_upload_mask_with_missing_original_is_404(client, folders):
    response = await client.post("/upload/mask", data=mask_form(png_bytes(), {"filename": "gone.png"}))
    await assert_json_error(response, 404, "file_not_found")
    assert not (folders.input / "mask.png").exists()


async def test_upload_mask_original_with_dot_dot_is_400(client, folders):
    write_png(folders.outside / "secret.png")
    response = await client.post("/upload/mask", data=mask_form(png_bytes(), {"filename": "../outside/secret.png"}))
    await assert_json_error(response, 400, "invalid_filename")


async def test_upload_mask_original_subfolder_escaping_is_403(client, folders):
    write_png(folders.outside / "secret.png")
    reference = {"filename": "secret.png", "subfolder": "../outside"}
    response = await client.post("/upload/mask", data=mask_form(png_bytes(), reference))
    await assert_json_error(response, 403, "path_outside_directory")
    assert not (folders.input / "mask.png").exists()


async def test_upload_mask_of_a_different_size_than_the_original_is_400(client, folders):
    write_png(folders.output / "orig.png", size=(8, 8))
    response = await client.post("/upload/mask", data=mask_form(png_bytes(size=(4, 4)), {"filename": "orig.png"}))
    await assert_json_error(response, 400, "invalid_image")
    assert not (folders.input / "mask.png").exists()


async def test_upload_mask_that_is_not_an_image_is_400(client, folders):
    write_png(folders.output / "orig.png")
    response = await client.post("/upload/mask", data=mask_form(b"not an image", {"filename": "orig.png"}))
    await assert_json_error(response, 400, "invalid_image")


async def test_upload_overwriting_a_folder_answers_a_json_error(client, folders):
    (folders.input / "a.png").mkdir()
    response = await client.post("/upload/image", data=image_form(png_bytes(), overwrite="true"))
    await assert_json_error(response, 409, "path_conflict")
    assert (folders.input / "a.png").is_dir()


async def test_upload_with_a_name_too_long_for_the_file_system_is_400(client, folders):
    response = await client.post("/upload/image", data=image_form(png_bytes(), filename="n" * 300 + ".png"))
    await assert_json_error(response, 400, "invalid_filename")


async def test_upload_into_a_subfolder_whose_path_is_a_file_is_409(client, folders):
    write_png(folders.input / "taken")
    response = await client.post("/upload/image", data=image_form(png_bytes(), subfolder="taken/deeper"))
    await assert_json_error(response, 409, "path_conflict")
