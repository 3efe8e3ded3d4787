"""Malformed and hostile requests: each is answered with a 4xx JSON error and the server keeps serving."""

from __future__ import annotations

import os

import pytest

from .graphs import fresh, link, node
from .images import solid_png

pytestmark = pytest.mark.asyncio


def _assert_json_error(result, status: int | None = None) -> dict:
    if status is None:
        assert 400 <= result.status < 500, f"expected a 4xx answer, got {result.status}: {result.body[:500]!r}"
    else:
        assert result.status == status, f"expected {status}, got {result.status}: {result.body[:500]!r}"
    body = result.json()
    assert isinstance(body, dict) and body, f"the error body is not a JSON object: {body!r}"
    return body


async def _assert_still_serving(client) -> None:
    result = await client.get("/system_stats")
    assert result.status == 200, f"the server stopped serving: GET /system_stats answered {result.status}"
    assert "system" in result.json()


async def test_invalid_json_body_on_post_prompt(client):
    result = await client.post_raw("/prompt", b'{"prompt": {"1": ')
    body = _assert_json_error(result)
    assert "error" in body
    await _assert_still_serving(client)


async def test_non_object_json_body_on_post_prompt(client):
    result = await client.post_raw("/prompt", b"[1, 2]")
    body = _assert_json_error(result)
    assert "error" in body
    await _assert_still_serving(client)


@pytest.mark.parametrize("prompt", ["a string", [1, 2], 7, None], ids=["string", "list", "number", "null"])
async def test_prompt_that_is_not_an_object(client, prompt):
    result = await client.post_json("/prompt", {"prompt": prompt, "client_id": client.client_id})
    body = _assert_json_error(result)
    assert "error" in body
    await _assert_still_serving(client)


async def test_node_that_is_not_an_object(client):
    result = await client.submit({"1": "KilnTestInt", "2": node("KilnTestIntOutput", value=link(1))})
    body = _assert_json_error(result)
    assert "error" in body
    await _assert_still_serving(client)


async def test_link_to_a_missing_node(client):
    result = await client.submit({"1": node("KilnTestIntOutput", value=link(404))})
    body = _assert_json_error(result, 400)
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert isinstance(body["node_errors"], dict)
    await _assert_still_serving(client)


async def test_link_to_an_output_slot_the_source_does_not_have(client):
    result = await client.submit({"1": node("KilnTestInt", value=1),
                                  "2": node("KilnTestIntOutput", value=link(1, 5))})
    body = _assert_json_error(result, 400)
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert isinstance(body["node_errors"], dict)
    await _assert_still_serving(client)


async def test_static_cycle(client):
    result = await client.submit({
        "1": node("KilnTestIntAdd", a=link(2), b=1),
        "2": node("KilnTestIntAdd", a=link(1), b=1),
        "3": node("KilnTestIntOutput", value=link(1)),
    })
    body = _assert_json_error(result, 400)
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    await _assert_still_serving(client)


async def test_one_megabyte_string_input(client):
    text = "k" * (1024 * 1024)
    result = await client.submit({"1": node("KilnTestStringOutput", text=text)})
    body = _assert_json_error(result)
    assert "error" in body
    await _assert_still_serving(client)


async def test_view_filename_with_dot_dot(client):
    _assert_json_error(await client.view("../extra_model_paths.yaml", type="output"), 400)
    _assert_json_error(await client.view("sub/../../server.log", type="output"), 400)
    await _assert_still_serving(client)


async def test_view_subfolder_escaping_the_folder(client):
    _assert_json_error(await client.view("server.log", subfolder="../..", type="output"), 403)
    await _assert_still_serving(client)


async def test_view_absolute_path(client):
    _assert_json_error(await client.view("/etc/passwd", type="output"), 400)
    await _assert_still_serving(client)


async def test_view_symlink_inside_output_pointing_outside(client, server):
    secret = server.base_dir / f"outside_secret_{fresh()}.txt"
    secret.write_text("kiln e2e secret", encoding="utf-8")
    server.output_dir.mkdir(parents=True, exist_ok=True)
    file_link = server.output_dir / f"kiln_link_{fresh()}.txt"
    os.symlink(secret, file_link)
    result = await client.view(file_link.name, type="output")
    assert b"kiln e2e secret" not in result.body
    _assert_json_error(result, 403)

    outside_dir = server.base_dir / f"outside_dir_{fresh()}"
    outside_dir.mkdir()
    (outside_dir / "secret.txt").write_text("kiln e2e secret", encoding="utf-8")
    dir_link = server.output_dir / f"kiln_dir_link_{fresh()}"
    os.symlink(outside_dir, dir_link, target_is_directory=True)
    result = await client.view("secret.txt", subfolder=dir_link.name, type="output")
    assert b"kiln e2e secret" not in result.body
    _assert_json_error(result, 403)
    await _assert_still_serving(client)


async def test_view_unknown_type(client):
    _assert_json_error(await client.view("anything.png", type="bogus"), 400)
    await _assert_still_serving(client)


async def test_view_without_filename(client):
    _assert_json_error(await client.get("/view", type="output"), 404)
    await _assert_still_serving(client)


async def test_upload_with_a_path_in_the_file_name(client, server):
    name = f"kiln_escape_{fresh()}.png"
    result = await client.upload_image(solid_png(fresh()), f"../../{name}")
    _assert_json_error(result, 400)
    assert not (server.base_dir / name).exists()
    assert not (server.base_dir.parent / name).exists()
    await _assert_still_serving(client)


async def test_upload_with_an_unknown_type(client):
    result = await client.upload_image(solid_png(fresh()), f"kiln_type_{fresh()}.png", type="bogus")
    _assert_json_error(result)
    await _assert_still_serving(client)


async def test_upload_without_a_file(client):
    result = await client.request("POST", "/upload/image", data={"type": "input"})
    _assert_json_error(result, 400)
    await _assert_still_serving(client)


async def test_cross_origin_request_is_refused_and_a_same_origin_one_accepted(client, server):
    refused = await client.request("GET", "/system_stats", headers={"Origin": "http://evil.example"})
    _assert_json_error(refused, 403)
    same_origin = await client.request("GET", "/system_stats", headers={"Origin": server.url})
    assert same_origin.status == 200
    await _assert_still_serving(client)
