"""The routes the web frontend calls besides the core API, over HTTP against a real server: the frontend itself at
`/` (the installed comfyui-frontend-package, or `--front-end-root`), /templates, /i18n, /extensions,
/workflow_templates, /global_subgraphs, /node_replacements, /experiment/models, /files/mask-layers, the /internal
routes (with the `logs` WebSocket messages), and the job fields the queue panel reads.

The server's base directory is laid out first: custom node packs with web folders, locales, example workflows and
subgraphs (one pack fails to import, so it must contribute nothing), model files with previews, mask editor layers,
and symlinks that point outside (a folder holding a secret) for every route that reads files.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from .client import KilnClient
from .conftest import REPO_ROOT, KilnServer
from .graphs import quick_prompt
from .images import png_bytes, solid_png

SECRET = b"KILN-SECRET-OUTSIDE"
PACK = "kiln_frontend_pack"
SECOND_PACK = "kiln_frontend_pack2"
SUBGRAPH_TEXT = json.dumps({"nodes": [], "links": [], "name": "tiny subgraph"})


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _safetensors_with_cover(cover_png: bytes) -> bytes:
    """A .safetensors file with no tensors whose metadata holds one base64 cover image."""
    header = json.dumps({"__metadata__": {"ssmd_cover_images": json.dumps([base64.b64encode(cover_png).decode()])}})
    encoded = header.encode("utf-8")
    return struct.pack("<Q", len(encoded)) + encoded


def _lay_out_base(base: Path, outside: Path) -> None:
    _write(outside / "secret.json", SECRET)
    _write(outside / "secret.png", solid_png(99) + SECRET)
    custom_nodes = base / "custom_nodes"

    pack = custom_nodes / PACK
    _write(pack / "__init__.py", "NODE_CLASS_MAPPINGS = {}\nWEB_DIRECTORY = 'web'\n")
    _write(pack / "web" / "pack.js", "export const pack = 1;\n")
    _write(pack / "web" / "nested" / "deep.js", "export const deep = 1;\n")
    _write(pack / "locales" / "en" / "main.json", json.dumps({"greeting": "hello", "menu": {"open": "Open"}}))
    _write(pack / "locales" / "en" / "nodeDefs.json", json.dumps({"PackNode": {"display_name": "Pack node"}}))
    _write(pack / "locales" / "fr" / "main.json", json.dumps({"greeting": "bonjour"}))
    _write(pack / "example_workflows" / "demo.json", json.dumps({"nodes": [], "links": []}))
    _write(pack / "example_workflows" / "demo.png", solid_png(3))
    (pack / "example_workflows" / "leak.json").symlink_to(outside / "secret.json")
    _write(pack / "examples" / "ignored.json", "{}")  # only the first example folder counts
    _write(pack / "subgraphs" / "tiny.json", SUBGRAPH_TEXT)
    (pack / "subgraphs" / "leak.json").symlink_to(outside / "secret.json")

    second = custom_nodes / SECOND_PACK
    _write(second / "__init__.py", "NODE_CLASS_MAPPINGS = {}\n")
    _write(second / "locales" / "en" / "main.json", json.dumps({"menu": {"close": "Close"}, "second": True}))
    _write(second / "locales" / "en" / "settings.json", json.dumps({"Second.Setting": {"name": "A setting"}}))
    _write(second / "workflows" / "second.json", "{}")

    broken = custom_nodes / "kiln_frontend_broken"
    _write(broken / "__init__.py", "raise RuntimeError('this pack fails to import')\n")
    _write(broken / "locales" / "en" / "main.json", json.dumps({"broken": True}))
    _write(broken / "example_workflows" / "broken.json", "{}")
    _write(broken / "subgraphs" / "broken.json", "{}")

    checkpoints = base / "models" / "checkpoints"
    _write(checkpoints / "covered.safetensors", _safetensors_with_cover(png_bytes(Image.new("RGB", (8, 8), "red"))))
    _write(checkpoints / "sub" / "pictured.ckpt", b"not really a checkpoint")
    _write(checkpoints / "sub" / "pictured.preview.png", png_bytes(Image.new("RGB", (6, 4), "blue")))
    _write(checkpoints / "plain.pt", b"weights")
    _write(checkpoints / "leaky.pt", b"weights")
    (checkpoints / "leaky.png").symlink_to(outside / "secret.png")
    _write(checkpoints / ".hidden.safetensors", b"hidden")
    _write(checkpoints / "notes.txt", b"not a model")

    clipspace = base / "input" / "clipspace"
    for layer in ("mask", "paint", "painted-masked"):
        _write(clipspace / f"clipspace-{layer}-1700000000000.png", solid_png(5))
    _write(base / "input" / "clipspace-painted-masked-1800000000000.png", solid_png(6))
    _write(base / "input" / "clipspace-mask-1800000000000.png", solid_png(6))
    (base / "input" / "door").symlink_to(outside, target_is_directory=True)

    output = base / "output"
    for age, name in enumerate(["newest.png", "middle.png", "oldest.png"]):
        _write(output / name, solid_png(age))
        stamp = time.time() - 100 * (age + 1)
        os.utime(output / name, (stamp, stamp))
    _write(output / ".hidden.png", solid_png(7))
    _write(output / "folder" / "inside.png", solid_png(8))
    (output / "leak.png").symlink_to(outside / "secret.png")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    base = tmp_path_factory.mktemp("kiln-frontend-routes")
    _lay_out_base(base, tmp_path_factory.mktemp("outside"))
    kiln = KilnServer(base, [])
    kiln.start()
    yield kiln
    kiln.stop()


class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def send(server: KilnServer, target: str, method: str = "GET", body: bytes | None = None,
         headers: dict | None = None) -> Answer:
    """One request with `target` sent exactly as written (so `..` and `%2e%2e` reach the server unchanged)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def assert_json_error(answer: Answer, status: int) -> dict:
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["message"] and isinstance(error["details"], str)
    return error


def assert_refused(answer: Answer) -> None:
    assert 400 <= answer.status < 500, (answer.status, answer.body[:300])
    assert SECRET not in answer.body


def frontend_static() -> Path:
    spec = importlib.util.find_spec("comfyui_frontend_package")
    assert spec is not None and spec.origin, "comfyui-frontend-package is a dependency of Kiln"
    return Path(spec.origin).parent / "static"


# ---------------------------------------------------------------------------------------------------------------
# The frontend at /


def test_the_installed_frontend_is_served_at_the_root_and_never_cached(server):
    answer = send(server, "/")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.body == (frontend_static() / "index.html").read_bytes()
    assert (answer.headers["Cache-Control"], answer.headers["Pragma"], answer.headers["Expires"]) == \
        ("no-cache", "no-cache", "0")


def test_the_frontend_scripts_are_served_with_no_cache_and_fonts_plainly(server):
    script = next((frontend_static() / "assets").glob("*.js"))
    answer = send(server, f"/assets/{script.name}")
    assert answer.status == 200 and answer.body == script.read_bytes()
    assert answer.headers["Cache-Control"] == "no-cache"
    assert send(server, "/materialdesignicons.min.css").headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("target,status", [
    ("/assets/no-such-file.js", 404), ("/api/no_such_route", 404), ("/assets", 404),
    ("/../../../etc/passwd", 400), ("/%2e%2e/%2e%2e/etc/passwd", 400), ("/assets/..%2f..%2f..%2fetc%2fpasswd", 400),
    ("/assets%5c..%5c..%5cpyproject.toml", 400)])
def test_missing_files_and_escapes_below_the_frontend_are_json_errors(server, target, status):
    answer = send(server, target)
    assert b"root:" not in answer.body
    assert_json_error(answer, status)


def test_extensions_lists_the_frontend_core_scripts_and_the_packs_web_directory(server):
    urls = send(server, "/api/extensions").json()
    assert f"/extensions/{PACK}/pack.js" in urls and f"/extensions/{PACK}/nested/deep.js" in urls
    assert any(url.startswith("/extensions/core/") for url in urls)
    assert not any("kiln_frontend_broken" in url for url in urls)
    assert send(server, f"/extensions/{PACK}/pack.js").body == b"export const pack = 1;\n"
    assert_refused(send(server, f"/extensions/{PACK}/../__init__.py"))
    assert_refused(send(server, f"/extensions/{PACK}/%2e%2e/__init__.py"))


def test_a_front_end_root_that_is_no_build_stops_the_server_with_a_clear_message(tmp_path):
    for root, reason in ((tmp_path / "missing", "is not a folder"), (tmp_path, "has no index.html")):
        result = subprocess.run([sys.executable, "main.py", "--front-end-root", str(root), "--quick-test-for-ci"],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert "--front-end-root" in result.stderr and reason in result.stderr


@pytest.fixture(scope="module")
def custom_frontend_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    root = tmp_path_factory.mktemp("custom-frontend")
    outside = tmp_path_factory.mktemp("outside-frontend")
    _write(outside / "secret.js", SECRET)
    _write(root / "index.html", "<!doctype html><title>my build</title>")
    _write(root / "app.js", "console.log('my build');")
    _write(root / "extensions" / "mine" / "extra.js", "export {};")
    (root / "leak.js").symlink_to(outside / "secret.js")
    (root / "door").symlink_to(outside, target_is_directory=True)
    kiln = KilnServer(tmp_path_factory.mktemp("kiln-custom-frontend"), ["--front-end-root", str(root)])
    kiln.start()
    yield kiln
    kiln.stop()


def test_front_end_root_serves_another_build_without_following_its_symlinks(custom_frontend_server):
    index = send(custom_frontend_server, "/")
    assert index.status == 200 and b"my build" in index.body and index.headers["Cache-Control"] == "no-cache"
    assert send(custom_frontend_server, "/app.js").body == b"console.log('my build');"
    assert "/extensions/mine/extra.js" in send(custom_frontend_server, "/api/extensions").json()
    for target in ("/leak.js", "/door/secret.js", "/%2e%2e/index.html"):
        assert_refused(send(custom_frontend_server, target))


# ---------------------------------------------------------------------------------------------------------------
# Templates, translations, example workflows, subgraphs, node replacements


def test_i18n_merges_the_locales_of_every_loaded_pack(server):
    for prefix in ("", "/api"):
        translations = send(server, f"{prefix}/i18n").json()
        assert translations["en"] == {
            "greeting": "hello", "menu": {"open": "Open", "close": "Close"}, "second": True,
            "nodeDefs": {"PackNode": {"display_name": "Pack node"}},
            "settings": {"Second.Setting": {"name": "A setting"}},
        }
        assert translations["fr"] == {"greeting": "bonjour"}


def test_workflow_templates_lists_each_packs_first_example_folder(server):
    listing = send(server, "/api/workflow_templates").json()
    assert listing == {PACK: ["demo"], SECOND_PACK: ["second"]}  # the leaking symlink and the broken pack are left out
    answer = send(server, f"/api/workflow_templates/{PACK}/demo.json")
    assert answer.status == 200 and answer.json() == {"nodes": [], "links": []}
    assert send(server, f"/api/workflow_templates/{PACK}/demo.png").body == solid_png(3)


@pytest.mark.parametrize("target", [
    f"/api/workflow_templates/{PACK}/leak.json", f"/api/workflow_templates/{PACK}/../__init__.py",
    f"/api/workflow_templates/{PACK}/%2e%2e/__init__.py", f"/api/workflow_templates/{PACK}/..%2f__init__.py",
    f"/api/workflow_templates/{PACK}/missing.json", "/api/workflow_templates/kiln_frontend_broken/broken.json",
    "/api/workflow_templates/no_such_pack/demo.json"])
def test_workflow_template_files_refuse_escapes_and_unknown_packs(server, target):
    answer = send(server, target)
    assert_refused(answer)
    assert_json_error(answer, answer.status)


def test_global_subgraphs_lists_pack_subgraphs_and_serves_their_data(server):
    listing = send(server, "/api/global_subgraphs").json()
    assert len(listing) == 1, listing  # the symlink leading outside and the broken pack are left out
    subgraph_id, entry = next(iter(listing.items()))
    assert entry == {"source": "custom_node", "name": "tiny", "info": {"node_pack": f"custom_nodes.{PACK}"}}
    detail = send(server, f"/api/global_subgraphs/{subgraph_id}").json()
    assert detail == {**entry, "data": SUBGRAPH_TEXT}
    for target in ("/api/global_subgraphs/0000", "/api/global_subgraphs/..%2f..%2fetc%2fpasswd"):
        assert_json_error(send(server, target), 404)


def test_node_replacements_is_empty_when_no_loaded_pack_registers_any(server):
    assert send(server, "/api/node_replacements").json() == {}


# ---------------------------------------------------------------------------------------------------------------
# The model library


def test_experiment_models_lists_the_model_folders_without_configs_and_custom_nodes(server):
    folders = {entry["name"]: entry["folders"] for entry in send(server, "/api/experiment/models").json()}
    assert folders["checkpoints"][0] == str(server.base_dir / "models" / "checkpoints")
    assert "configs" not in folders and "custom_nodes" not in folders


def test_experiment_models_folder_lists_model_files_with_sizes_and_times(server):
    files = {entry["name"]: entry for entry in send(server, "/api/experiment/models/checkpoints").json()}
    assert set(files) == {"covered.safetensors", "sub/pictured.ckpt", "plain.pt", "leaky.pt"}
    plain = files["plain.pt"]
    assert plain["pathIndex"] == 0 and plain["size"] == len(b"weights")
    assert abs(plain["modified"] - (server.base_dir / "models" / "checkpoints" / "plain.pt").stat().st_mtime) < 1e-3
    assert isinstance(plain["created"], float)
    for target in ("/api/experiment/models/no_such_folder", "/api/experiment/models/configs"):
        assert_json_error(send(server, target), 404)


def test_model_previews_come_from_a_picture_beside_the_model_or_its_cover_image(server):
    pictured = send(server, "/api/experiment/models/preview/checkpoints/0/sub/pictured.ckpt")
    assert pictured.status == 200 and pictured.headers["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(pictured.body)) as image:
        assert image.format == "WEBP" and image.size == (6, 4)
    covered = send(server, "/api/experiment/models/preview/checkpoints/0/covered.safetensors")
    assert covered.status == 200 and covered.body.startswith(b"RIFF")


@pytest.mark.parametrize("target,status", [
    ("/api/experiment/models/preview/checkpoints/0/plain.pt", 404),
    ("/api/experiment/models/preview/checkpoints/0/leaky.pt", 404),
    ("/api/experiment/models/preview/checkpoints/7/plain.pt", 404),
    ("/api/experiment/models/preview/checkpoints/x/plain.pt", 404),
    ("/api/experiment/models/preview/no_such_folder/0/plain.pt", 404),
    ("/api/experiment/models/preview/checkpoints/0/..%2f..%2f..%2finput%2fclipspace-mask-1800000000000.png", 400),
    ("/api/experiment/models/preview/checkpoints/0/%2e%2e/%2e%2e/%2e%2e/input/clipspace-mask-1800000000000.png",
     None),
])
def test_model_previews_refuse_missing_pictures_bad_indexes_and_escapes(server, target, status):
    answer = send(server, target)
    assert_refused(answer)
    assert not answer.body.startswith(b"RIFF")
    if status is not None:
        assert_json_error(answer, status)


# ---------------------------------------------------------------------------------------------------------------
# Mask editor layers


def test_mask_layers_names_the_layers_saved_with_an_image(server):
    answer = send(server, "/api/files/mask-layers?filename=clipspace/clipspace-painted-masked-1700000000000.png"
                          "%20%5Binput%5D")
    assert answer.status == 200
    assert answer.json() == {"mask": "clipspace-mask-1700000000000.png", "paint": "clipspace-paint-1700000000000.png",
                             "painted_masked": "clipspace-painted-masked-1700000000000.png"}
    at_root = send(server, "/api/files/mask-layers?filename=clipspace-mask-1800000000000.png").json()
    assert at_root == {"mask": "clipspace-mask-1800000000000.png",
                       "painted_masked": "clipspace-painted-masked-1800000000000.png"}


@pytest.mark.parametrize("query,status", [
    ("", 400), ("filename=", 400), ("filename=photo.png", 404), ("filename=clipspace-mask-42.png", 404),
    ("filename=..%2Fclipspace-mask-1700000000000.png", 400), ("filename=%2Fetc%2Fclipspace-mask-1.png", 400),
    ("filename=door%2Fclipspace-mask-1.png", 403),
])
def test_mask_layers_refuses_bad_names_escapes_and_unknown_images(server, query, status):
    assert_json_error(send(server, f"/api/files/mask-layers?{query}"), status)


# ---------------------------------------------------------------------------------------------------------------
# /internal


def test_internal_folder_paths_gives_every_folder_its_search_paths(server):
    paths = send(server, "/internal/folder_paths").json()
    assert paths["checkpoints"][0] == str(server.base_dir / "models" / "checkpoints")
    assert paths["custom_nodes"][0] == str(server.base_dir / "custom_nodes")


def test_internal_routes_are_not_duplicated_under_api(server):
    assert_json_error(send(server, "/api/internal/folder_paths"), 404)


def test_internal_files_lists_the_visible_top_level_files_newest_first(server):
    assert send(server, "/internal/files/output").json() == ["newest.png", "middle.png", "oldest.png"]
    assert sorted(send(server, "/internal/files/input").json()) == ["clipspace-mask-1800000000000.png",
                                                                    "clipspace-painted-masked-1800000000000.png"]
    assert send(server, "/internal/files/temp").json() == []
    for target in ("/internal/files/models", "/internal/files/%2e%2e", "/internal/files/output%2f.."):
        assert assert_json_error(send(server, target), 400)["message"] == "Invalid directory type"


def test_internal_logs_give_recent_lines_as_text_and_as_entries(server):
    text = send(server, "/internal/logs").json()
    assert isinstance(text, str) and "Web frontend: comfyui-frontend-package" in text
    raw = send(server, "/internal/logs/raw").json()
    assert any("Web frontend" in entry["m"] for entry in raw["entries"])
    assert set(raw["entries"][0]) == {"t", "m"}
    assert raw["size"]["cols"] > 0 and raw["size"]["rows"] > 0


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"clientId": 5, "enabled": true}',
                                  b'{"clientId": "x", "enabled": "yes"}', b'{"enabled": true}'])
def test_logs_subscribe_refuses_a_malformed_body(server, body):
    assert_json_error(send(server, "/internal/logs/subscribe", "PATCH", body,
                           {"Content-Type": "application/json"}), 400)


@pytest.mark.asyncio
async def test_a_subscribed_client_gets_new_log_lines_over_its_websocket_until_it_unsubscribes(server):
    async with KilnClient(server.url) as client:
        await client.connect()
        subscribe = {"clientId": client.client_id, "enabled": True}
        assert (await client.request("PATCH", "/internal/logs/subscribe", raw_path=True, json=subscribe)).status == 200
        await client.request("POST", "/api/prompt", raw_path=True, json={"prompt": quick_prompt()})
        _, message = await client.wait_for_type("logs", timeout=10)
        entries = message["data"]["entries"]
        assert any("got prompt" in entry["m"] for entry in entries) and set(entries[0]) == {"t", "m"}
        assert message["data"]["size"] is None or message["data"]["size"]["cols"] > 0

        unsubscribe = {"clientId": client.client_id, "enabled": False}
        assert (await client.request("PATCH", "/internal/logs/subscribe", raw_path=True, json=unsubscribe)
                ).status == 200
        seen = len(client.messages)
        await client.run(quick_prompt())  # logs "got prompt" and "Prompt executed in ..."
        await asyncio.sleep(0.3)
        assert [m for m in client.messages[seen:] if m["type"] == "logs"] == []


# ---------------------------------------------------------------------------------------------------------------
# The queue panel's job routes


@pytest.mark.asyncio
async def test_the_job_list_and_detail_have_what_the_queue_panel_reads(server):
    workflow = {"id": "0b9e1c1e-workflow", "nodes": [], "links": []}
    async with KilnClient(server.url, api_prefix="/api") as client:
        await client.connect()
        run = await client.run(quick_prompt(), extra_data={"extra_pnginfo": {"workflow": workflow},
                                                           "api_key_comfy_org": "secret-key"})
        listing = await client.get_json("/jobs", status="completed,failed,cancelled", limit=64, offset=0)
        assert set(listing["pagination"]) == {"offset", "limit", "total", "has_more"}
        assert listing["pagination"]["limit"] == 64 and listing["pagination"]["offset"] == 0
        job = next(job for job in listing["jobs"] if job["id"] == run.prompt_id)
        assert job["status"] == "completed" and job["workflow_id"] == workflow["id"]
        assert isinstance(job["create_time"], int) and isinstance(job["outputs_count"], int)
        assert (await client.get_json("/jobs", status="in_progress,pending", limit=200, offset=0))["jobs"] == []

        detail = await client.get_json(f"/jobs/{run.prompt_id}")
        assert {node["class_type"] for node in detail["workflow"]["prompt"].values()} == \
            {"KilnTestInt", "KilnTestIntOutput"}
        assert detail["workflow"]["extra_data"]["extra_pnginfo"]["workflow"] == workflow
        assert "api_key_comfy_org" not in detail["workflow"]["extra_data"]
        assert (await client.get("/jobs", status="running")).status == 400


def test_without_the_frontend_package_the_root_answers_in_plain_text(tmp_path, monkeypatch):
    # Stand-in packages without their folders shadow the real ones: the frontend and the workflow templates (a
    # test dependency) count as not installed.
    _write(tmp_path / "shadow" / "comfyui_frontend_package" / "__init__.py", "__version__ = '0'\n")
    _write(tmp_path / "shadow" / "comfyui_workflow_templates" / "__init__.py",
           "def get_templates_path():\n    return '/nonexistent/templates'\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "shadow"))
    kiln = KilnServer(tmp_path / "base", [])
    kiln.base_dir.mkdir()
    kiln.start()
    try:
        answer = send(kiln, "/")
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain")
        assert b"web frontend is not installed" in answer.body and answer.headers["Cache-Control"] == "no-cache"
        assert [url for url in send(kiln, "/api/extensions").json() if url.startswith("/extensions/core/")] == []
        assert_json_error(send(kiln, "/assets/app.js"), 404)
        # without the templates package: an empty index in every language, no logos, no template files
        for target in ("/templates/index.json", "/templates/index.fr.json"):
            answer = send(kiln, target)
            assert answer.status == 200 and answer.json() == []
            assert answer.headers["Cache-Control"] == "no-cache"
        assert send(kiln, "/templates/index_logo.json").json() == {}
        assert_json_error(send(kiln, "/templates/default.json"), 404)
        for target in ("/templates/../index.json", "/templates/%2e%2e/%2e%2e/etc/passwd", "/templates/a%5cb.json"):
            assert_refused(send(kiln, target))
    finally:
        kiln.stop()
