"""`--max-upload-size 1`: request bodies over 1 MB are refused with 413 and a JSON body; smaller ones work."""

from __future__ import annotations

import os

import pytest

from .conftest import start_server
from .graphs import fresh, node
from .images import solid_png

pytestmark = pytest.mark.asyncio

ONE_MEGABYTE = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own server, with a 1 MB request limit."""
    kiln = start_server(tmp_path_factory, "kiln-small-uploads", ["--max-upload-size", "1"])
    yield kiln
    kiln.stop()


async def _assert_still_serving(client) -> None:
    assert (await client.get("/system_stats")).status == 200


async def test_features_report_the_configured_upload_limit(client):
    features = await client.get_json("/features")
    assert features == {"supports_preview_metadata": True, "max_upload_size": float(ONE_MEGABYTE)}


async def test_upload_over_the_limit_is_413_with_a_json_body(client, server):
    name = f"kiln_big_{fresh()}.png"
    result = await client.upload_image(os.urandom(ONE_MEGABYTE + ONE_MEGABYTE // 2), name)
    assert result.status == 413, result.body[:300]
    assert isinstance(result.json(), dict)
    assert not (server.input_dir / name).exists()
    await _assert_still_serving(client)


async def test_prompt_with_a_one_megabyte_string_over_the_limit_is_413_with_a_json_body(client):
    result = await client.submit({"1": node("KilnTestStringOutput", text="k" * ONE_MEGABYTE)})
    assert result.status == 413, result.body[:300]
    assert isinstance(result.json(), dict)
    await _assert_still_serving(client)


async def test_upload_under_the_limit_still_works(client):
    name = f"kiln_small_{fresh()}.png"
    result = await client.upload_image(solid_png(fresh()), name)
    assert result.status == 200, result.body
    assert result.json() == {"name": name, "subfolder": "", "type": "input"}
