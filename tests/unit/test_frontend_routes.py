"""app.frontend_routes: which frontend is served, and /templates/ from an installed comfyui-workflow-templates in
either of its layouts (stand-in packages built in a temporary folder)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from aiohttp import web

from app import frontend_routes
from app.frontend_routes import add_template_routes, frontend_root, installed_template_files
from comfy.cli_args import args

INDEX = [{"moduleName": "default", "title": "Basics", "templates": [{"name": "tiny", "mediaType": "image"}]}]


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def packages(tmp_path, monkeypatch):
    """A folder put first on sys.path for stand-in packages; the modules they define are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    for name in list(sys.modules):
        if name.startswith("comfyui_workflow_templates"):
            monkeypatch.delitem(sys.modules, name)
    yield folder
    for name in list(sys.modules):
        if name.startswith("comfyui_workflow_templates"):
            del sys.modules[name]


@pytest.fixture
def secret(tmp_path):
    return _write(tmp_path / "outside" / "secret.json", "SECRET")


async def _client(aiohttp_client, files):
    app = web.Application()
    add_template_routes(app, files)
    return await aiohttp_client(app)


def test_front_end_root_wins_over_the_installed_package(monkeypatch, tmp_path):
    monkeypatch.setattr(args, "front_end_root", str(tmp_path))
    assert frontend_root() == str(tmp_path)


def test_without_the_package_or_a_root_there_is_no_frontend(monkeypatch):
    monkeypatch.setattr(args, "front_end_root", None)
    real_find_spec = frontend_routes.importlib.util.find_spec
    monkeypatch.setattr(frontend_routes.importlib.util, "find_spec",
                        lambda name: None if name == frontend_routes.FRONTEND_PACKAGE else real_find_spec(name))
    assert frontend_root() is None
    assert "none" in frontend_routes.describe_frontend(None)


@pytest.mark.asyncio
async def test_the_legacy_templates_package_is_served_from_its_templates_folder(aiohttp_client, packages, secret):
    templates = packages / "comfyui_workflow_templates" / "templates"
    _write(packages / "comfyui_workflow_templates" / "__init__.py",
           f"def get_templates_path():\n    return {str(templates)!r}\n")
    _write(templates / "index.json", json.dumps(INDEX))
    _write(templates / "tiny.json", json.dumps({"nodes": []}))
    (templates / "leak.json").symlink_to(secret)
    client = await _client(aiohttp_client, installed_template_files())

    assert await (await client.get("/templates/index.json")).json() == INDEX
    assert await (await client.get("/templates/tiny.json")).json() == {"nodes": []}
    for path, status in (("/templates/leak.json", 404), ("/templates/missing.json", 404),
                         ("/templates/index.fr.json", 404), ("/templates/..%2f..%2foutside%2fsecret.json", 400)):
        answer = await client.get(path)
        assert answer.status == status, path
        body = await answer.json()
        assert body["error"]["message"] and "SECRET" not in json.dumps(body)


@pytest.mark.asyncio
async def test_the_split_templates_packages_serve_manifest_assets_and_the_index(aiohttp_client, packages, tmp_path):
    media = _write(tmp_path / "media" / "tiny-1.webp", b"RIFF-webp")
    _write(packages / "comfyui_workflow_templates_core" / "__init__.py",
           f"def iter_assets():\n    yield 'tiny-1.webp', {str(media)!r}\n")
    _write(packages / "comfyui_workflow_templates_json" / "__init__.py", "")
    _write(packages / "comfyui_workflow_templates_json" / "templates" / "index.json", json.dumps(INDEX))
    files = installed_template_files()
    assert files.installed
    client = await _client(aiohttp_client, files)

    assert await (await client.get("/templates/index.json")).json() == INDEX
    assert await (await client.get("/templates/tiny-1.webp")).read() == b"RIFF-webp"
    assert (await client.get("/templates/index_logo.json")).status == 404


@pytest.mark.asyncio
async def test_without_templates_the_index_is_empty_and_other_files_are_404(aiohttp_client):
    client = await _client(aiohttp_client, frontend_routes.TemplateFiles())
    assert await (await client.get("/templates/index.json")).json() == []
    assert await (await client.get("/templates/index.zh-TW.json")).json() == []
    assert await (await client.get("/templates/index_logo.json")).json() == {}
    answer = await client.get("/templates/tiny.json")
    assert answer.status == 404 and "comfyui-workflow-templates" in (await answer.json())["error"]["details"]
