"""app/access.py: API keys, the same-origin rule and the exposure warning, without a server process."""

from __future__ import annotations

import logging

import pytest
import pytest_asyncio
from aiohttp import web

from app.access import (
    create_api_key_middleware,
    create_origin_only_middleware,
    is_loopback_host,
    is_same_origin,
    key_is_accepted,
    read_api_keys,
    warn_if_exposed,
)

# ---------------------------------------------------------------------------------------------------------------
# Keys


def test_keys_come_from_the_flags_then_the_file_skipping_blanks_and_comments(tmp_path):
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("# team keys\nfile-key-1\n\n  file-key-2  \n", encoding="utf-8")
    assert read_api_keys(["flag-key"], str(keys_file)) == (b"flag-key", b"file-key-1", b"file-key-2")


def test_no_key_flags_means_no_keys():
    assert read_api_keys(None, None) == ()


@pytest.mark.parametrize("content", ["", "\n# only a comment\n\n"])
def test_a_keys_file_without_keys_stops_the_start(tmp_path, content):
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit, match="holds no key"):
        read_api_keys(None, str(keys_file))


def test_a_missing_keys_file_or_an_empty_key_stops_the_start(tmp_path):
    with pytest.raises(SystemExit, match="cannot read it"):
        read_api_keys(None, str(tmp_path / "missing.txt"))
    with pytest.raises(SystemExit, match="empty key"):
        read_api_keys(["  "], None)


def test_a_key_is_accepted_only_when_it_equals_one_of_the_keys():
    accepted = (b"alpha", b"beta")
    assert key_is_accepted(b"beta", accepted)
    assert not key_is_accepted(b"bet", accepted)
    assert not key_is_accepted(b"beta ", accepted)
    assert not key_is_accepted(b"", accepted)


# ---------------------------------------------------------------------------------------------------------------
# Same origin


@pytest.mark.parametrize(("host", "origin"), [
    ("127.0.0.1:8188", "http://127.0.0.1:8188"),
    ("localhost:8188", "http://localhost:8188"),
    ("LocalHost:8188", "http://localhost:8188"),
    ("[::1]:8188", "http://[::1]:8188"),
    ("[0:0:0:0:0:0:0:1]:8188", "http://[::1]:8188"),
    ("192.168.1.5:8188", "http://192.168.1.5:8188"),
    ("comfy.example.com", "https://comfy.example.com"),  # behind a TLS proxy that keeps Host
    ("comfy.example.com", "http://comfy.example.com"),
    ("comfy.example.com:443", "https://comfy.example.com"),
    ("localhost:8188", "http://localhost:8188/"),
])
def test_pages_of_this_server_are_same_origin(host, origin):
    assert is_same_origin(host, origin)


@pytest.mark.parametrize(("host", "origin"), [
    ("127.0.0.1:8188", "null"),
    ("127.0.0.1:8188", "http://127.0.0.1"),  # ComfyUI skips the port check when Origin has none
    ("127.0.0.1:8188", "http://127.0.0.1:3000"),
    ("127.0.0.1", "http://127.0.0.1:8188"),
    ("localhost:8188", "https://evil.example:8188"),
    ("localhost.:8188", "http://evil.example:8188"),  # trailing dot: ComfyUI treats it as not loopback, no check
    ("localhost:8188", "http://localhost.:8188"),
    ("[::1]:8188", "http://evil.example:8188"),
    ("[::ffff:127.0.0.1]:8188", "http://evil.example:8188"),
    ("[::ffff:127.0.0.1]:8188", "http://127.0.0.1:8188"),
    ("192.168.1.5:8188", "http://evil.example:8188"),  # ComfyUI checks loopback hosts only
    ("127.0.0.1:8188", "file://"),
    ("127.0.0.1:8188", "chrome-extension://abcdef"),
    ("127.0.0.1:8188", "http://user@127.0.0.1:8188"),
    ("127.0.0.1:8188", "http://127.0.0.1:8188/page"),
    ("127.0.0.1:8188", "http://127.0.0.1:99999"),
    ("127.0.0.1:8188", "http://[::1"),
    ("127.0.0.1:8188", ""),
    (None, "http://127.0.0.1:8188"),
    ("[::1", "http://[::1]:8188"),
])
def test_other_origins_and_malformed_headers_are_not_same_origin(host, origin):
    assert not is_same_origin(host, origin)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST.",
                                  "::ffff:127.0.0.1", "app.localhost"])
def test_loopback_hosts(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.com", "localhost.example.com"])
def test_non_loopback_hosts(host):
    assert not is_loopback_host(host)


def test_exposure_warning_only_for_non_loopback_addresses_without_keys(caplog):
    with caplog.at_level(logging.WARNING):
        warn_if_exposed(["127.0.0.1", "::1"], has_keys=False)
        warn_if_exposed(["0.0.0.0"], has_keys=True)
    assert caplog.text == ""
    with caplog.at_level(logging.WARNING):
        warn_if_exposed(["127.0.0.1", "0.0.0.0"], has_keys=False)
    assert "listens on 0.0.0.0" in caplog.text and "--api-key" in caplog.text
    assert "listens on 127.0.0.1" not in caplog.text


# ---------------------------------------------------------------------------------------------------------------
# The middlewares on a tiny app


@pytest_asyncio.fixture
async def client(aiohttp_client):
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[create_origin_only_middleware(), create_api_key_middleware((b"s3cret",))])
    app.router.add_get("/system_stats", ok)
    app.router.add_get("/health", ok)
    app.router.add_post("/prompt", ok)
    return await aiohttp_client(app)


@pytest.mark.asyncio
async def test_without_a_key_the_answer_is_a_json_401_with_a_bearer_challenge(client):
    response = await client.get("/system_stats")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = await response.json()
    assert body["error"]["type"] == "unauthorized" and body["node_errors"] == {}


@pytest.mark.asyncio
@pytest.mark.parametrize(("headers", "params", "status"), [
    ({"Authorization": "Bearer s3cret"}, {}, 200),
    ({"Authorization": "bearer s3cret"}, {}, 200),
    ({}, {"token": "s3cret"}, 200),
    ({"Authorization": "Bearer wrong"}, {}, 401),
    ({"Authorization": "Basic s3cret"}, {}, 401),
    ({}, {"token": "wrong"}, 401),
    ({}, {"token": "s3cr\u00e9t\ud800"}, 401),
])
async def test_the_key_is_taken_from_the_bearer_header_or_the_token_query(client, headers, params, status):
    response = await client.get("/system_stats", headers=headers, params=params)
    assert response.status == status


@pytest.mark.asyncio
async def test_health_needs_no_key(client):
    assert (await client.get("/health")).status == 200


@pytest.mark.asyncio
async def test_preflight_needs_no_key_and_a_foreign_origin_is_refused_before_the_key(client):
    assert (await client.options("/prompt", headers={"Origin": f"http://{client.host}:{client.port}"})).status == 200
    response = await client.post("/prompt", headers={"Origin": "http://evil.example", "Authorization": "Bearer s3cret"})
    assert response.status == 403
    assert (await response.json())["error"]["type"] == "origin_not_allowed"
