"""app.info_routes: /object_info, /embeddings, /models, /extensions, /view_metadata and extension static files."""

from __future__ import annotations

import json
import os
import struct
import sys
import types

import pytest
from aiohttp import web

import folder_paths
from app.info_routes import add_extension_static_routes, add_info_routes

pytestmark = pytest.mark.asyncio


class PlainNode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"ckpt_name": (folder_paths.get_filename_list("checkpoints"),)}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "run"
    CATEGORY = "loaders"


class BrokenNode:
    @classmethod
    def INPUT_TYPES(cls):
        raise RuntimeError("cannot list inputs")

    RETURN_TYPES = ()
    FUNCTION = "run"


@pytest.fixture
def registry(monkeypatch):
    fake = types.ModuleType("nodes")
    fake.NODE_CLASS_MAPPINGS = {"PlainNode": PlainNode, "BrokenNode": BrokenNode}
    fake.NODE_DISPLAY_NAME_MAPPINGS = {"PlainNode": "Plain"}
    fake.EXTENSION_WEB_DIRS = {}
    fake.LOADED_MODULE_DIRS = {}
    monkeypatch.setitem(sys.modules, "nodes", fake)
    return fake


@pytest.fixture
def make_client(aiohttp_client, base, registry):
    async def make(web_root: str | None = None):
        routes = web.RouteTableDef()
        add_info_routes(routes, web_root=web_root)
        app = web.Application()
        app.add_routes(routes)
        add_extension_static_routes(app)
        return await aiohttp_client(app)

    return make


def touch(path, content: bytes = b"x") -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    return str(path)


def safetensors_bytes(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


async def test_object_info_lists_working_nodes_and_skips_broken_ones(make_client, base):
    touch(base / "models" / "checkpoints" / "sd15.safetensors")
    client = await make_client()
    response = await client.get("/object_info")
    assert response.status == 200
    body = await response.json()
    assert list(body) == ["PlainNode"]
    assert body["PlainNode"]["input"] == {"required": {"ckpt_name": [["sd15.safetensors"]]}}
    assert body["PlainNode"]["display_name"] == "Plain"


async def test_object_info_for_one_node_and_empty_object_for_unknown(make_client):
    client = await make_client()
    response = await client.get("/object_info/PlainNode")
    assert list(await response.json()) == ["PlainNode"]
    response = await client.get("/object_info/NoSuchNode")
    assert response.status == 200
    assert await response.json() == {}


async def test_object_info_for_one_broken_node_is_a_json_error(make_client):
    client = await make_client()
    response = await client.get("/object_info/BrokenNode")
    assert response.status == 500
    assert "cannot list inputs" in (await response.json())["error"]["message"]


async def test_embeddings_lists_names_without_extension(make_client, base):
    touch(base / "models" / "embeddings" / "easynegative.safetensors")
    touch(base / "models" / "embeddings" / "sub" / "style.pt")
    client = await make_client()
    response = await client.get("/embeddings")
    assert await response.json() == ["easynegative", "sub/style"]


async def test_models_lists_every_folder_key(make_client):
    client = await make_client()
    body = await (await client.get("/models")).json()
    assert body == list(folder_paths.folder_names_and_paths)
    assert "configs" in body and "custom_nodes" in body


async def test_models_folder_lists_sorted_relative_files(make_client, base):
    touch(base / "models" / "loras" / "b.safetensors")
    touch(base / "models" / "loras" / "a" / "c.pt")
    touch(base / "models" / "loras" / "readme.txt")
    client = await make_client()
    response = await client.get("/models/loras")
    assert await response.json() == ["a/c.pt", "b.safetensors"]


async def test_models_unknown_or_legacy_folder_is_404_json_error(make_client):
    client = await make_client()
    for folder in ("nope", "unet"):
        response = await client.get(f"/models/{folder}")
        assert response.status == 404
        assert folder in (await response.json())["error"]["message"]


async def test_extensions_lists_web_root_and_custom_node_scripts_with_quoted_names(make_client, registry, tmp_path):
    web_dir = tmp_path / "packs" / "my pack" / "web"
    touch(web_dir / "main.js")
    touch(web_dir / "sub" / "widget.js")
    touch(web_dir / "style.css")
    registry.EXTENSION_WEB_DIRS["my pack"] = str(web_dir)
    web_root = tmp_path / "frontend"
    touch(web_root / "extensions" / "core" / "a.js")
    client = await make_client(web_root=str(web_root))
    response = await client.get("/extensions")
    assert await response.json() == ["/extensions/core/a.js", "/extensions/my%20pack/main.js",
                                     "/extensions/my%20pack/sub/widget.js"]


async def test_extension_web_dirs_are_served_statically_without_escaping(make_client, registry, tmp_path):
    web_dir = tmp_path / "packs" / "pack" / "web"
    touch(web_dir / "main.js", b"console.log(1)")
    touch(tmp_path / "packs" / "pack" / "secret.txt", b"secret")
    registry.EXTENSION_WEB_DIRS["pack"] = str(web_dir)
    client = await make_client()
    response = await client.get("/extensions/pack/main.js")
    assert response.status == 200
    assert await response.read() == b"console.log(1)"
    response = await client.get("/extensions/pack/%2E%2E/secret.txt")
    assert response.status in (403, 404)
    assert await response.read() != b"secret"


async def test_extension_web_dir_with_space_or_non_ascii_name_is_served_at_its_listed_url(make_client, registry,
                                                                                          tmp_path):
    web_dir = tmp_path / "web"
    touch(web_dir / "sub dir" / "main.js", b"ok")
    registry.EXTENSION_WEB_DIRS["my pack"] = str(web_dir)
    registry.EXTENSION_WEB_DIRS["Pack_\u00fc"] = str(web_dir)
    client = await make_client()
    urls = await (await client.get("/extensions")).json()
    assert urls == ["/extensions/my%20pack/sub dir/main.js", "/extensions/Pack_%C3%BC/sub dir/main.js"]
    for url in urls:
        response = await client.get(url.replace(" ", "%20"))
        assert response.status == 200, url
        assert await response.read() == b"ok"


async def test_view_metadata_returns_the_safetensors_metadata(make_client, base):
    header = {"__metadata__": {"ss_network_dim": "32"}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    touch(base / "models" / "loras" / "sub" / "style.safetensors", safetensors_bytes(header) + b"\0" * 4)
    client = await make_client()
    response = await client.get("/view_metadata/loras", params={"filename": "sub/style.safetensors"})
    assert response.status == 200
    assert await response.json() == {"ss_network_dim": "32"}


async def test_view_metadata_is_404_for_every_failure(make_client, base):
    touch(base / "models" / "loras" / "plain.safetensors", safetensors_bytes({"w": {}}))
    touch(base / "models" / "loras" / "junk.safetensors", b"\x01")
    touch(base / "models" / "loras" / "model.ckpt", safetensors_bytes({"__metadata__": {"a": "b"}}))
    touch(base / "models" / "outside.safetensors", safetensors_bytes({"__metadata__": {"a": "b"}}))
    client = await make_client()
    for folder, filename in [("loras", "plain.safetensors"), ("loras", "junk.safetensors"), ("loras", "model.ckpt"),
                             ("loras", "../outside.safetensors"), ("loras", "missing.safetensors"),
                             ("nope", "plain.safetensors"), ("loras", "")]:
        response = await client.get(f"/view_metadata/{folder}", params={"filename": filename})
        assert response.status == 404, (folder, filename)
    response = await client.get("/view_metadata/loras")
    assert response.status == 404
