"""Who may use the server and what it serves, on real server processes.

- A server started with `--api-key` (and `--api-keys-file`) answers 401 on every route of its route table without
  a key, and accepts a key in `Authorization: Bearer` or in the `token` query, over HTTP and the WebSocket.
- Opening `/?token=KEY` signs a browser in: a redirect that sets an HttpOnly, SameSite=Strict session cookie (not
  the key) which then opens every route and the WebSocket from the server's own pages; forged cookies and cookies
  sent by other origins are refused, and a keyless server ignores all of it.
- The origin check refuses other origins, including ComfyUI's bypasses (`null`, other ports, IPv6 and trailing-dot
  hosts), and lets the server's own pages and non-browser clients through.
- `/view` sends HTML and SVG that a user or node put in a folder as downloads; symlinks out of a folder, paths in
  upload names and uploads that are not images are refused.
- Listening on 0.0.0.0 without a key prints a warning; custom nodes that crash at import are skipped.
"""

from __future__ import annotations

import re
import uuid

import aiohttp
import pytest

from .client import KilnClient
from .conftest import KilnServer, start_server
from .graphs import fresh, quick_prompt
from .images import solid_png

pytestmark = pytest.mark.asyncio

FLAG_KEY = "kiln-flag-key-7f3a"
FILE_KEY = "kiln-file-key-91c2"
PUBLIC_PATHS = {"/health", "/api/health"}

PROBE_PACK = '''
from aiohttp import web
from server import PromptServer

WEB_DIRECTORY = "./web"
NODE_CLASS_MAPPINGS = {}


@PromptServer.instance.routes.get("/kiln_access_probe/routes")
async def route_table(request):
    """Every (method, path pattern) the server's router holds, static routes included."""
    return web.json_response([[route.method, route.resource.canonical]
                              for route in PromptServer.instance.app.router.routes() if route.resource is not None])
'''


def _write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    """A server on 0.0.0.0 with one key from the command line and one from a keys file, plus custom nodes: one that
    lists the route table and serves a web folder, and two that crash at import."""
    keys_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys_file.write_text(f"# keys for the access tests\n{FILE_KEY}\n", encoding="utf-8")
    base_dir = tmp_path_factory.mktemp("kiln-keyed")
    custom_nodes = base_dir / "custom_nodes"
    _write(custom_nodes / "kiln_access_probe" / "__init__.py", PROBE_PACK)
    _write(custom_nodes / "kiln_access_probe" / "web" / "probe.js", "export const probe = 1;\n")
    _write(custom_nodes / "kiln_crash_raise" / "__init__.py", "raise RuntimeError('kiln pack crashed at import')\n")
    _write(custom_nodes / "kiln_crash_exit.py", "import sys\nsys.exit('kiln pack exited at import')\n")
    kiln = KilnServer(base_dir, ["--listen", "0.0.0.0", "--api-key", FLAG_KEY, "--api-keys-file", str(keys_file)])
    kiln.ready_path = f"/system_stats?token={FLAG_KEY}"
    kiln.start()
    yield kiln
    kiln.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's keyless server, listening on every interface (so it must warn)."""
    kiln = start_server(tmp_path_factory, "kiln-open", ["--listen", "0.0.0.0"])
    yield kiln
    kiln.stop()


def _concrete(method: str, pattern: str) -> tuple[str, str]:
    """A request for one route-table entry: variables filled in, a static prefix given a file below it."""
    path = re.sub(r"\{[^}]*\}", "x", pattern)
    if path.startswith("/extensions/"):
        path += "/probe.js"
    return ("GET" if method in ("*", "HEAD") else method), path


# ---------------------------------------------------------------------------------------------------------------
# API keys


async def test_every_route_of_the_route_table_answers_401_without_a_key(keyed_server):
    async with KilnClient(keyed_server.url) as client:
        table = (await client.request("GET", "/kiln_access_probe/routes",
                                      headers={"Authorization": f"Bearer {FLAG_KEY}"})).json()
        patterns = {pattern for _, pattern in table}
        assert {"/", "/ws", "/api/ws", "/view", "/api/view", "/prompt", "/api/prompt", "/upload/image",
                "/history/{prompt_id}", "/api/history/{prompt_id}", "/kiln_test/hello", "/api/kiln_test/hello",
                "/extensions/kiln_access_probe"} <= patterns
        requests = sorted({_concrete(method, pattern) for method, pattern in table})
        assert len(requests) > 40
        for method, path in requests:
            answer = await client.request(method, path, raw_path=True)
            if path in PUBLIC_PATHS:
                assert answer.status != 401, path
                continue
            assert answer.status == 401, f"{method} {path} answered {answer.status}"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            assert answer.json()["error"]["type"] == "unauthorized"
        # the same paths with a key reach their routes: the static file, for one, is served
        served = await client.request("GET", "/extensions/kiln_access_probe/probe.js",
                                      headers={"Authorization": f"Bearer {FILE_KEY}"})
        assert served.status == 200 and b"probe" in served.body


async def test_health_needs_no_key(keyed_server):
    async with KilnClient(keyed_server.url) as client:
        for path in PUBLIC_PATHS:
            assert (await client.request("GET", path)).status == 200


@pytest.mark.parametrize("prefix", ["", "/api"])
async def test_a_key_in_the_bearer_header_or_the_token_query_is_accepted(keyed_server, prefix):
    async with KilnClient(keyed_server.url, api_prefix=prefix) as client:
        for key in (FLAG_KEY, FILE_KEY):
            assert (await client.request("GET", "/system_stats", headers={"Authorization": f"Bearer {key}"})
                    ).status == 200
            assert (await client.get("/system_stats", token=key)).status == 200
        for headers, params, message in (({"Authorization": "Bearer wrong-key"}, {}, "Invalid API key"),
                                         ({}, {"token": "wrong-key"}, "Invalid API key"),
                                         ({"Authorization": f"Bearer {FLAG_KEY}x"}, {}, "Invalid API key"),
                                         ({"Authorization": FLAG_KEY}, {}, "Missing API key"),
                                         ({}, {}, "Missing API key")):
            answer = await client.request("GET", "/system_stats", headers=headers, params=params)
            assert answer.status == 401
            assert answer.json()["error"]["message"] == message


async def test_a_keyed_client_queues_runs_and_views_like_a_comfyui_client(keyed_server):
    headers = {"Authorization": f"Bearer {FLAG_KEY}"}
    name = f"keyed_{fresh()}.png"
    (keyed_server.output_dir / name).write_bytes(solid_png(fresh()))
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{keyed_server.url}/prompt", json={"prompt": quick_prompt()}) as answer:
            assert answer.status == 200, await answer.text()
    async with aiohttp.ClientSession() as session:  # what a browser's <img src> can do: the key in the query
        async with session.get(f"{keyed_server.url}/view", params={"filename": name, "token": FLAG_KEY}) as answer:
            assert answer.status == 200 and answer.content_type == "image/png"
        async with session.get(f"{keyed_server.url}/view", params={"filename": name}) as answer:
            assert answer.status == 401


async def _ws_status(url: str, **options) -> int:
    """101 when the WebSocket opens (after reading its first `status` message), else the refusal's status."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, **options) as ws:
                message = await ws.receive_json(timeout=10)
                assert message["type"] == "status"
                return 101
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status


@pytest.mark.parametrize("path", ["/ws", "/api/ws"])
async def test_the_websocket_needs_the_key_in_the_query_or_header(keyed_server, path):
    url = f"{keyed_server.url}{path}?clientId={uuid.uuid4()}"
    assert await _ws_status(url) == 401
    assert await _ws_status(f"{url}&token=wrong") == 401
    assert await _ws_status(f"{url}&token={FLAG_KEY}") == 101
    assert await _ws_status(url, headers={"Authorization": f"Bearer {FILE_KEY}"}) == 101


# ---------------------------------------------------------------------------------------------------------------
# Browser sessions: /?token=KEY sets a cookie the frontend's page loads, XHRs and WebSocket then carry


async def _sign_in(client: KilnClient, query: str, **headers: str):
    """GET /?<query> without following the redirect."""
    return await client.request("GET", f"/?{query}", raw_path=True, allow_redirects=False, headers=headers)


def _session_cookie(answer) -> tuple[str, str, str]:
    """(name, value, the whole Set-Cookie header) of the one cookie `answer` sets."""
    [header] = answer.headers.getall("Set-Cookie")
    name, _, rest = header.partition("=")
    return name, rest.split(";", 1)[0], header


async def _signed_in_cookie(client: KilnClient, key: str = FLAG_KEY) -> str:
    name, value, _ = _session_cookie(await _sign_in(client, f"token={key}"))
    return f"{name}={value}"


async def test_opening_the_root_with_a_good_token_redirects_and_sets_a_session_cookie(keyed_server):
    async with KilnClient(keyed_server.url) as client:
        answer = await _sign_in(client, f"token={FLAG_KEY}")
        assert answer.status == 302
        assert answer.headers["Location"] == "./"
        name, value, header = _session_cookie(answer)
        assert name.startswith("kiln_session_")
        assert re.fullmatch(r"[0-9a-f]{64}", value) and FLAG_KEY not in header
        attributes = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= attributes
        assert "secure" not in attributes  # plain http: a Secure cookie would never come back
        # the same key signs in to the same session; the other key to its own
        assert await _signed_in_cookie(client) == f"{name}={value}"
        assert await _signed_in_cookie(client, FILE_KEY) != f"{name}={value}"
        # the other query parameters survive the redirect; behind an https proxy the cookie is Secure
        answer = await _sign_in(client, f"template=default&token={FLAG_KEY}", **{"X-Forwarded-Proto": "https"})
        assert answer.headers["Location"] == "./?template=default"
        assert "secure" in {part.strip().lower() for part in _session_cookie(answer)[2].split(";")}


async def test_a_sign_in_that_another_site_started_moves_on_from_a_page_of_its_own(keyed_server):
    """A browser withholds the Strict cookie from every hop of a cross-site navigation, so no HTTP redirect."""
    async with KilnClient(keyed_server.url) as client:
        answer = await _sign_in(client, f"token={FLAG_KEY}&x=%22%3E", **{"Sec-Fetch-Site": "cross-site"})
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/html")
        assert b'content="0; url=./?x=%22%3E"' in answer.body and FLAG_KEY.encode() not in answer.body
        assert _session_cookie(answer)[0].startswith("kiln_session_")
        assert answer.headers["Referrer-Policy"] == "no-referrer"


async def test_a_bad_token_on_the_root_gets_the_usual_401_and_no_cookie(keyed_server):
    async with KilnClient(keyed_server.url) as client:
        for query, message in ((f"token={FLAG_KEY}x", "Invalid API key"), ("token=wrong", "Invalid API key"),
                               ("", "Missing API key")):
            answer = await _sign_in(client, query)
            assert answer.status == 401, query
            assert "Set-Cookie" not in answer.headers
            error = answer.json()["error"]
            assert error["type"] == "unauthorized" and error["message"] == message
            assert "/?token=" in error["details"]


@pytest.mark.parametrize("path", ["/", "/system_stats", "/api/system_stats", "/api/object_info", "/api/settings",
                                  "/api/users", "/api/extensions"])
async def test_the_session_cookie_opens_the_page_and_the_api(keyed_server, path):
    async with KilnClient(keyed_server.url) as client:
        cookie = await _signed_in_cookie(client)
        answer = await client.request("GET", path, raw_path=True, headers={"Cookie": cookie})
        assert answer.status == 200, f"{path}: {answer.body[:300]!r}"
        same_origin = {"Cookie": cookie, "Origin": keyed_server.url}
        assert (await client.request("GET", path, raw_path=True, headers=same_origin)).status == 200


async def test_the_session_cookie_opens_view_and_queues_prompts(keyed_server):
    name = f"session_{fresh()}.png"
    (keyed_server.output_dir / name).write_bytes(solid_png(fresh()))
    async with KilnClient(keyed_server.url) as client:
        cookie = await _signed_in_cookie(client)
        headers = {"Cookie": cookie, "Origin": keyed_server.url}
        viewed = await client.request("GET", "/api/view", raw_path=True, params={"filename": name}, headers=headers)
        assert viewed.status == 200 and viewed.headers["Content-Type"] == "image/png"
        queued = await client.request("POST", "/api/prompt", raw_path=True, json={"prompt": quick_prompt()},
                                      headers=headers)
        assert queued.status == 200, queued.body


@pytest.mark.parametrize("path", ["/ws", "/api/ws"])
async def test_the_session_cookie_opens_the_websocket(keyed_server, path):
    async with KilnClient(keyed_server.url) as client:
        cookie = await _signed_in_cookie(client)
    url = f"{keyed_server.url}{path}?clientId={uuid.uuid4()}"
    assert await _ws_status(url, headers={"Cookie": cookie, "Origin": keyed_server.url}) == 101
    assert await _ws_status(url, headers={"Cookie": cookie}) == 101
    cookie_name = cookie.split("=", 1)[0]
    assert await _ws_status(url, headers={"Cookie": f"{cookie_name}={'0' * 64}"}) == 401


async def test_a_forged_or_foreign_session_cookie_is_refused(keyed_server):
    async with KilnClient(keyed_server.url) as client:
        cookie = await _signed_in_cookie(client)
        cookie_name, value = cookie.split("=", 1)
        for forged in (f"{cookie_name}={'0' * 64}", f"{cookie_name}={value[:-1]}{'1' if value[-1] == '0' else '0'}",
                       f"{cookie_name}={FLAG_KEY}", f"{cookie_name}=", f"kiln_session_00000000={value}"):
            answer = await client.request("GET", "/api/system_stats", raw_path=True, headers={"Cookie": forged})
            assert answer.status == 401, forged
            assert answer.json()["error"]["type"] == "unauthorized"
        # a valid cookie sent by a page of another origin is refused (403, by the origin check)
        for origin in ("http://evil.example", f"http://127.0.0.1:{keyed_server.port + 1}", "null"):
            answer = await client.request("POST", "/api/prompt", raw_path=True, json={"prompt": quick_prompt()},
                                          headers={"Cookie": cookie, "Origin": origin})
            assert answer.status == 403, origin
        # a wrong explicit key is not rescued by a valid cookie
        answer = await client.request("GET", "/api/system_stats", raw_path=True,
                                      headers={"Cookie": cookie, "Authorization": "Bearer wrong-key"})
        assert answer.status == 401


async def test_without_a_key_the_token_query_changes_nothing_and_sets_no_cookie(server):
    async with KilnClient(server.url) as client:
        for query in ("token=anything", ""):
            answer = await _sign_in(client, query)
            assert answer.status == 200 and "Set-Cookie" not in answer.headers
        answer = await client.request("GET", "/api/system_stats", raw_path=True,
                                      headers={"Cookie": f"kiln_session_00000000={'0' * 64}"})
        assert answer.status == 200 and "Set-Cookie" not in answer.headers


async def test_a_keyed_server_on_all_interfaces_does_not_warn_and_skips_crashing_custom_nodes(keyed_server):
    log = keyed_server.log(2000)
    assert "no API key is set" not in log
    assert "kiln pack crashed at import" in log and "kiln pack exited at import" in log
    assert "Traceback" in log
    assert re.search(r"\(IMPORT FAILED\): .*kiln_crash_raise", log)
    assert re.search(r"\(IMPORT FAILED\): .*kiln_crash_exit\.py", log)
    assert keyed_server.is_alive()


async def test_a_keyless_server_on_all_interfaces_warns(server):
    log = server.log(2000)
    assert "WARNING: Kiln listens on 0.0.0.0" in log
    assert "--api-key" in log


# ---------------------------------------------------------------------------------------------------------------
# Origin check (the keyless server)


def _origin_cases(port: int) -> list[tuple[str | None, str | None, int]]:
    """(Host, Origin, expected status) for GET /system_stats."""
    here = f"127.0.0.1:{port}"
    return [
        (here, None, 200),
        (here, f"http://{here}", 200),
        (f"localhost:{port}", f"http://localhost:{port}", 200),
        (f"LOCALHOST:{port}", f"http://localhost:{port}", 200),
        (f"[::1]:{port}", f"http://[::1]:{port}", 200),
        (here, "null", 403),
        (here, f"http://127.0.0.1:{port + 1}", 403),
        (here, "http://127.0.0.1", 403),
        (here, f"http://evil.example:{port}", 403),
        (f"[::1]:{port}", f"http://evil.example:{port}", 403),
        (f"[::1]:{port}", "http://[::1]", 403),
        (f"[::ffff:127.0.0.1]:{port}", f"http://evil.example:{port}", 403),
        (f"[::ffff:7f00:1]:{port}", "http://evil.example", 403),
        (f"localhost.:{port}", f"http://evil.example:{port}", 403),
        (f"localhost:{port}", f"http://localhost.:{port}", 403),
        (f"192.168.7.7:{port}", f"http://evil.example:{port}", 403),
        (here, "file://", 403),
    ]


@pytest.mark.parametrize("prefix", ["", "/api"])
async def test_origin_check_cases(server, prefix):
    async with KilnClient(server.url, api_prefix=prefix) as client:
        for host, origin, expected in _origin_cases(server.port):
            headers = {"Host": host} | ({"Origin": origin} if origin is not None else {})
            answer = await client.request("GET", "/system_stats", headers=headers)
            assert answer.status == expected, f"Host {host}, Origin {origin}: {answer.status}"
            if expected == 403:
                assert answer.json()["error"]["type"] == "origin_not_allowed"


async def test_a_cross_origin_prompt_is_refused_and_a_same_origin_one_is_queued(server):
    async with KilnClient(server.url) as client:
        refused = await client.request("POST", "/prompt", json={"prompt": quick_prompt()},
                                       headers={"Origin": f"http://localhost:{server.port + 1}"})
        assert refused.status == 403
        accepted = await client.request("POST", "/prompt", json={"prompt": quick_prompt()},
                                        headers={"Origin": f"http://127.0.0.1:{server.port}"})
        assert accepted.status == 200, accepted.body


async def test_a_cross_origin_websocket_is_refused(server):
    url = f"{server.url}/ws?clientId={uuid.uuid4()}"
    assert await _ws_status(url, origin="http://evil.example") == 403
    assert await _ws_status(url, origin="null") == 403
    assert await _ws_status(url, origin=f"http://127.0.0.1:{server.port}") == 101
    assert await _ws_status(url) == 101


# ---------------------------------------------------------------------------------------------------------------
# What /view serves, and what it refuses


ACTIVE_FILES = {
    "page.html": b"<html><script>document.title='pwned'</script></html>",
    "drawing.svg": b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    "feed.xml": b"<?xml version='1.0'?><x:script xmlns:x='http://www.w3.org/1999/xhtml'>alert(1)</x:script>",
    "script.js": b"alert(1)",
    "mystery.bin": b"\x00\x01",
}


@pytest.mark.parametrize("folder", ["output", "input"])
async def test_html_svg_and_unknown_files_are_served_as_octet_stream_attachments(server, folder):
    async with KilnClient(server.url) as client:
        for name, data in ACTIVE_FILES.items():
            stored = f"{fresh()}_{name}"
            (getattr(server, f"{folder}_dir") / stored).write_bytes(data)
            for answer in (await client.view(stored, type=folder), await client.view(f"{stored} [{folder}]")):
                assert answer.status == 200
                assert answer.body == data
                assert answer.headers["Content-Type"] == "application/octet-stream"
                assert answer.headers["Content-Disposition"] == f'attachment; filename="{stored}"'
                assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_images_keep_their_type_and_show_inline(server):
    name = f"shown_{fresh()}.png"
    (server.output_dir / name).write_bytes(solid_png(fresh()))
    async with KilnClient(server.url) as client:
        answer = await client.view(name)
    assert answer.headers["Content-Type"] == "image/png"
    assert not answer.headers["Content-Disposition"].startswith("attachment")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def outside(tmp_path):
    """A folder outside the server's base directory holding a secret image."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(solid_png(4242) + b"SECRET-BYTES")
    return tmp_path


async def test_a_symlinked_file_pointing_outside_is_refused_without_its_bytes(server, outside):
    name = f"leak_{fresh()}.png"
    (server.input_dir / name).symlink_to(outside / "secret.png")
    async with KilnClient(server.url) as client:
        for answer in (await client.view(name, type="input"), await client.view(name, type="input", preview="webp;90"),
                       await client.view(name, type="input", channel="rgb")):
            assert answer.status in (403, 404)
            assert b"SECRET-BYTES" not in answer.body and not answer.body.startswith(b"\x89PNG")


async def test_a_symlinked_folder_pointing_outside_is_refused_for_view_and_upload(server, outside):
    door = f"door_{fresh()}"
    (server.input_dir / door).symlink_to(outside, target_is_directory=True)
    async with KilnClient(server.url) as client:
        viewed = await client.view("secret.png", type="input", subfolder=door)
        assert viewed.status in (403, 404) and b"SECRET-BYTES" not in viewed.body
        uploaded = await client.upload_image(solid_png(fresh()), "planted.png", subfolder=door)
        assert uploaded.status == 400
        nested = await client.upload_image(solid_png(fresh()), "planted.png", subfolder=f"{door}/deeper")
        assert nested.status == 400
    assert sorted(path.name for path in outside.iterdir()) == ["secret.png"]


def _raw_upload(filename_in_header: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body with the file name exactly as written (a quoted-string: a backslash is sent as two)."""
    boundary = "kiln-access-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename_in_header}"\r\n'
            "Content-Type: image/png\r\n\r\n")
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize("filename_in_header", ["../escaped.png", "../../escaped.png", "sub/escaped.png",
                                                "/tmp/escaped.png", "..\\\\escaped.png", "a\\\\escaped.png", ".."])
async def test_a_path_in_an_upload_file_name_is_refused(server, filename_in_header):
    before = sorted(p.name for p in server.base_dir.parent.iterdir())
    body, headers = _raw_upload(filename_in_header, solid_png(fresh()))
    async with KilnClient(server.url) as client:
        answer = await client.request("POST", "/upload/image", data=body, headers=headers)
    assert answer.status == 400
    assert answer.json()["error"]["type"] == "invalid_filename"
    assert not list(server.base_dir.rglob("escaped.png"))
    assert sorted(p.name for p in server.base_dir.parent.iterdir()) == before


@pytest.mark.parametrize(("name", "data"), [("page.png", ACTIVE_FILES["page.html"]),
                                            ("drawing.svg", ACTIVE_FILES["drawing.svg"]),
                                            ("truncated.png", solid_png(7)[:30]), ("empty.png", b"")])
async def test_an_upload_that_is_not_an_image_is_refused(server, name, data):
    stored = f"{fresh()}_{name}"
    async with KilnClient(server.url) as client:
        answer = await client.upload_image(data, stored)
    assert answer.status == 400
    assert answer.json()["error"]["type"] == "invalid_image"
    assert not (server.input_dir / stored).exists()
