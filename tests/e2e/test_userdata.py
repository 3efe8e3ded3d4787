"""Users, settings and the userdata routes (ComfyUI §1.3) on real server processes.

- Single-user: every route's success and error answers, at `<path>` and at `/api<path>`, every error a JSON body.
- Path confinement: `..`, `%2e%2e`, absolute paths, backslashes, symlinks leading out and other users' folders are
  refused, and nothing outside the user's folder is read or touched.
- `--multi-user`: users created with POST /users, the `Comfy-User` header, unknown users answered 401/403.
- Random paths at every file route never get a 5xx and never touch a file outside the user's folder.
- A saved workflow and a changed setting are still there after the server restarts on the same folders.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from .client import HttpResult, KilnClient
from .conftest import KilnServer, start_server

ESCAPES = ["..%2Fsecret.txt", "%2e%2e%2Fsecret.txt", "%2e%2e%2F%2e%2e%2Fsecret.txt", "workflows%2F..%2F..%2Fsecret.txt",
           "%2Fetc%2Fpasswd", "%2Ftmp%2Fkiln-absolute.txt", "%2e%2e", "%2E%2E%2Fusers.json"]
BACKSLASHES = ["..%5Csecret.txt", "..%5C..%5Csecret.txt", "workflows%5Ca.json"]
SECRET = "the-secret-outside-the-user-folder"


@pytest.fixture(scope="module")
def userdata_server(tmp_path_factory) -> KilnServer:
    server = start_server(tmp_path_factory, "kiln-userdata")
    # Files a request must never reach: beside the user folders, and beside the user directory.
    (server.base_dir / "user").mkdir(exist_ok=True)
    (server.base_dir / "user" / "secret.txt").write_text(SECRET)
    (server.base_dir / "secret.txt").write_text(SECRET)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def multi_server(tmp_path_factory) -> KilnServer:
    server = start_server(tmp_path_factory, "kiln-multi-user", ["--multi-user"])
    yield server
    server.stop()


async def raw(client: KilnClient, method: str, encoded_path: str, **kwargs) -> HttpResult:
    """A request whose path is sent exactly as written (percent-escapes and `..` kept), so the server sees it."""
    assert client.session is not None
    url = URL(f"{client.base_url}{encoded_path}", encoded=True)
    async with client.session.request(method, url, **kwargs) as response:
        return HttpResult(response.status, response.headers, await response.read())


def assert_json_error(result: HttpResult, status: int) -> dict:
    """The answer has this status and ComfyUI's JSON error shape; returns its `error` object."""
    assert result.status == status, (result.status, result.body[:300])
    error = result.json()["error"]
    assert isinstance(error, dict) and error["type"] and error["message"], error
    return error


async def list_v2(client: KilnClient, path: str | None = None, **kwargs) -> HttpResult:
    """GET /v2/userdata (with `?path=` when given)."""
    return await client.request("GET", "/v2/userdata", params={} if path is None else {"path": path}, **kwargs)


def user_folder(server: KilnServer, user: str = "default") -> Path:
    return server.base_dir / "user" / user


# ---------------------------------------------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize("prefix", ["", "/api"])
@pytest.mark.asyncio
async def test_settings_are_read_merged_and_set_one_by_one(userdata_server, prefix):
    async with KilnClient(userdata_server.url, api_prefix=prefix) as client:
        key = f"Kiln.Test{prefix.replace('/', '_')}"
        assert (await client.post_json("/settings", {key: 1, key + ".Nested": {"a": [1, 2]}})).status == 200
        assert (await client.post_json(f"/settings/{key}", "two")).status == 200
        settings = await client.get_json("/settings")
        assert settings[key] == "two" and settings[key + ".Nested"] == {"a": [1, 2]}
        assert await client.get_json(f"/settings/{key}") == "two"
        assert await client.get_json("/settings/Kiln.NeverSet") is None
    stored = json.loads((user_folder(userdata_server) / "comfy.settings.json").read_text())
    assert stored[key] == "two"


@pytest.mark.asyncio
async def test_settings_refuse_bodies_that_are_not_json_or_not_an_object(userdata_server):
    async with KilnClient(userdata_server.url) as client:
        assert_json_error(await client.post_json("/settings", [1, 2]), 400)
        assert_json_error(await client.post_raw("/settings", b"{not json"), 400)
        assert_json_error(await client.post_raw("/settings/Kiln.Bad", b"{not json"), 400)


# ---------------------------------------------------------------------------------------------------------------
# Userdata files


@pytest.mark.asyncio
async def test_a_workflow_is_written_listed_read_moved_and_deleted(userdata_server):
    workflow = json.dumps({"nodes": [], "extra": {"ds": {"scale": 1}}}).encode()
    async with KilnClient(userdata_server.url, api_prefix="/api") as client:
        written = await raw(client, "POST", "/api/userdata/workflows%2Fcrud%2Fa.json", data=workflow)
        assert written.status == 200 and written.json() == "workflows/crud/a.json"
        again = await raw(client, "POST", "/api/userdata/workflows%2Fcrud%2Fa.json?overwrite=false", data=b"{}")
        assert_json_error(again, 409)
        info = await raw(client, "POST", "/api/userdata/workflows%2Fcrud%2Fb.json?full_info=true", data=b"{}")
        assert info.status == 200
        assert info.json()["path"] == "workflows/crud/b.json" and info.json()["size"] == 2
        assert isinstance(info.json()["modified"], float) and isinstance(info.json()["created"], float)

        read = await raw(client, "GET", "/api/userdata/workflows%2Fcrud%2Fa.json")
        assert read.status == 200 and read.body == workflow
        assert read.headers["Content-Type"].startswith("application/json")

        assert await client.get_json("/userdata", dir="workflows/crud") == ["a.json", "b.json"]
        assert "crud/a.json" in await client.get_json("/userdata", dir="workflows", recurse="true")
        assert await client.get_json("/userdata", dir="workflows/crud", split="true") == [
            ["a.json", "a.json"], ["b.json", "b.json"]]
        split = await client.get_json("/userdata", dir="workflows", recurse="true", split="true")
        assert ["crud/a.json", "crud", "a.json"] in split
        full = await client.get_json("/userdata", dir="workflows/crud", full_info="true", split="true")
        assert [entry["path"] for entry in full] == ["a.json", "b.json"]
        assert full[0]["size"] == len(workflow)

        moved = await raw(client, "POST", "/api/userdata/workflows%2Fcrud%2Fa.json/move/workflows%2Fcrud%2Fb.json"
                                          "?overwrite=false")
        assert_json_error(moved, 409)
        moved = await raw(client, "POST", "/api/userdata/workflows%2Fcrud%2Fa.json/move/workflows%2Frenamed.json")
        assert moved.status == 200 and moved.json() == "workflows/renamed.json"
        moved = await raw(client, "POST", "/api/userdata/workflows%2Fcrud%2Fb.json/move/workflows%2Frenamed.json"
                                          "?full_info=true")
        assert moved.status == 200 and moved.json()["path"] == "workflows/renamed.json"
        assert_json_error(await raw(client, "POST", "/api/userdata/workflows%2Fcrud%2Fa.json/move/x.json"), 404)

        assert (await raw(client, "DELETE", "/api/userdata/workflows%2Frenamed.json")).status == 204
        assert_json_error(await raw(client, "DELETE", "/api/userdata/workflows%2Frenamed.json"), 404)
        assert_json_error(await raw(client, "GET", "/api/userdata/workflows%2Frenamed.json"), 404)
        assert await client.get_json("/userdata", dir="workflows/crud") == []
    assert sorted(path.name for path in (user_folder(userdata_server) / "workflows").rglob("*")) == ["crud"]


@pytest.mark.asyncio
async def test_listing_errors_follow_comfyui_statuses(userdata_server):
    async with KilnClient(userdata_server.url) as client:
        assert_json_error(await client.get("/userdata"), 400)
        assert_json_error(await client.get("/userdata", dir="no-such-folder"), 404)
        assert_json_error(await client.get("/userdata", dir="../"), 403)
        assert_json_error(await client.get("/userdata", dir="/etc"), 403)
        assert_json_error(await client.get("/userdata", dir="a\\b"), 400)


@pytest.mark.asyncio
async def test_v2_listing_shows_folders_first_then_files_by_name(userdata_server):
    async with KilnClient(userdata_server.url) as client:
        for name in ("v2%2FZeta.json", "v2%2Falpha.json", "v2%2Fsub%2Finner.json"):
            assert (await raw(client, "POST", f"/userdata/{name}", data=b"{}")).status == 200
        entries = (await list_v2(client, "v2")).json()
        assert [(entry["type"], entry["path"]) for entry in entries] == [
            ("directory", "v2/sub"), ("file", "v2/alpha.json"), ("file", "v2/sub/inner.json"), ("file", "v2/Zeta.json")]
        assert entries[1]["size"] == 2 and isinstance(entries[1]["modified"], float)
        top = (await list_v2(client)).json()
        assert {"name": "v2", "path": "v2", "type": "directory"} in top
        assert_json_error(await list_v2(client, "missing"), 404)
        assert_json_error(await list_v2(client, "v2/alpha.json"), 400)
        assert_json_error(await list_v2(client, "../"), 400)
        assert_json_error(await list_v2(client, "/etc"), 400)


@pytest.mark.asyncio
async def test_files_a_browser_could_run_are_served_as_downloads_and_css_as_css(userdata_server):
    async with KilnClient(userdata_server.url) as client:
        await raw(client, "POST", "/userdata/page.html", data=b"<script>alert(1)</script>")
        page = await raw(client, "GET", "/userdata/page.html")
        assert page.status == 200 and page.headers["Content-Type"] == "application/octet-stream"
        assert page.headers["Content-Disposition"].startswith("attachment")
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        await raw(client, "POST", "/userdata/user.css", data=b"body { color: red }")
        css = await raw(client, "GET", "/api/userdata/user.css")
        assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


# ---------------------------------------------------------------------------------------------------------------
# Confinement


def outside_files(server: KilnServer) -> dict[str, str]:
    """Every file of the base directory outside the default user's folder, with its contents' first bytes."""
    inside = user_folder(server)
    return {str(path): path.read_bytes()[:64].decode(errors="replace") for path in server.base_dir.rglob("*")
            if path.is_file() and inside not in path.parents and path.suffix in (".txt", ".json")}


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.asyncio
async def test_escapes_from_the_user_folder_are_refused_by_every_file_route(userdata_server, escape):
    before = outside_files(userdata_server)
    async with KilnClient(userdata_server.url) as client:
        for prefix in ("", "/api"):
            answers = [
                await raw(client, "GET", f"{prefix}/userdata/{escape}"),
                await raw(client, "POST", f"{prefix}/userdata/{escape}", data=b"overwritten"),
                await raw(client, "DELETE", f"{prefix}/userdata/{escape}"),
                await raw(client, "POST", f"{prefix}/userdata/{escape}/move/stolen.txt"),
                await raw(client, "POST", f"{prefix}/userdata/settings.json/move/{escape}"),
            ]
            for answer in answers:
                assert answer.status == 403, (escape, answer.status, answer.body[:200])
                assert SECRET.encode() not in answer.body
                assert_json_error(answer, answer.status)
    assert outside_files(userdata_server) == before
    assert not Path("/tmp/kiln-absolute.txt").exists()


@pytest.mark.parametrize("escape", BACKSLASHES)
@pytest.mark.asyncio
async def test_backslashes_in_paths_are_refused(userdata_server, escape):
    async with KilnClient(userdata_server.url) as client:
        assert_json_error(await raw(client, "POST", f"/userdata/{escape}", data=b"x"), 400)
        assert_json_error(await raw(client, "GET", f"/userdata/{escape}"), 400)
    assert not any("\\" in path.name for path in userdata_server.base_dir.rglob("*"))


@pytest.mark.asyncio
async def test_symlinks_leading_out_of_the_user_folder_are_refused(userdata_server):
    folder = user_folder(userdata_server) / "links"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secret.txt").symlink_to(userdata_server.base_dir / "secret.txt")
    (folder / "base").symlink_to(userdata_server.base_dir)
    async with KilnClient(userdata_server.url) as client:
        for path in ("links%2Fsecret.txt", "links%2Fbase%2Fsecret.txt", "links%2Fbase%2Fuser%2Fsecret.txt"):
            for answer in (await raw(client, "GET", f"/userdata/{path}"),
                           await raw(client, "POST", f"/userdata/{path}", data=b"overwritten"),
                           await raw(client, "DELETE", f"/userdata/{path}")):
                assert_json_error(answer, 403)
        listed = await client.get_json("/userdata", dir="links", recurse="true")
        assert listed == []
        entries = (await list_v2(client, "links")).json()
        assert [entry["name"] for entry in entries] == []
        assert_json_error(await client.get("/userdata", dir="links/base"), 403)
    assert (userdata_server.base_dir / "secret.txt").read_text() == SECRET
    assert (userdata_server.base_dir / "user" / "secret.txt").read_text() == SECRET


SEGMENTS = st.sampled_from(["..", ".", "%2e%2e", "%2E.", "workflows", "a.json", "secret.txt", "users.json", "user",
                            "default", "%00", "%5C", "%2F", "~", "%ff", "%C3%A9", "x" * 300, "", "comfy.settings.json"])
random_paths = st.one_of(
    st.lists(SEGMENTS, min_size=1, max_size=6).map("%2F".join),
    st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join),
    st.text(max_size=40).map(lambda text: urllib.parse.quote(text, safe="")))


def send(server: KilnServer, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
    """One request with `target` sent byte for byte as written."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, target, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=random_paths, dest=random_paths)
def test_random_paths_never_get_a_5xx_or_touch_files_outside_the_user_folder(userdata_server, path, dest):
    before = outside_files(userdata_server)
    # A raw "/", "." or ".." (or nothing) never reaches `{file}`: the server normalises the path or another route
    # (the web frontend's static files) answers it, so only reaching requests must answer JSON errors.
    reaches = all(part not in ("", ".", "..") and "/" not in part for part in (path, dest))
    for method, target, body, must_be_json in (
            ("POST", f"/userdata/{path}?overwrite=false", b"fuzz", reaches),
            ("GET", f"/api/userdata/{path}", None, reaches),
            ("GET", f"/userdata?dir={path}&recurse=true&full_info=true", None, True),
            ("GET", f"/v2/userdata?path={path}", None, True),
            ("POST", f"/userdata/{path}/move/{dest}?overwrite=false", None, reaches),
            ("DELETE", f"/userdata/{path}", None, reaches)):
        status, answer = send(userdata_server, method, target, body)
        assert status < 500, (method, target, status, answer[:300])
        assert SECRET.encode() not in answer
        if status >= 400 and must_be_json:
            assert isinstance(json.loads(answer)["error"], dict), (method, target, answer[:300])
    assert outside_files(userdata_server) == before


# ---------------------------------------------------------------------------------------------------------------
# --multi-user


@pytest.mark.asyncio
async def test_multi_user_creates_users_and_refuses_duplicates(multi_server):
    async with KilnClient(multi_server.url) as client:
        assert await client.get_json("/users") == {"storage": "server", "users": {}}
        created = await client.post_json("/users", {"username": "alice"})
        assert created.status == 200
        alice = created.json()
        assert alice.startswith("alice_")
        duplicate = await client.post_json("/api/users", {"username": "alice"})
        assert duplicate.status == 400 and duplicate.json() == {"error": "Duplicate username."}
        assert_json_error(await client.post_json("/users", {"username": "  "}), 400)
        assert_json_error(await client.post_json("/users", {"name": "x"}), 400)
        assert_json_error(await client.post_raw("/users", b"nope"), 400)
        assert (await client.get_json("/users"))["users"][alice] == "alice"
    stored = json.loads((multi_server.base_dir / "user" / "users.json").read_text())
    assert stored[alice] == "alice"


@pytest.mark.asyncio
async def test_multi_user_unknown_users_get_401_on_settings_and_403_on_userdata(multi_server):
    async with KilnClient(multi_server.url) as client:
        for headers in ({}, {"Comfy-User": "nobody"}, {"Comfy-User": "../default"}, {"Comfy-User": "default"},
                        {"Comfy-User": "__manager"}):
            assert_json_error(await client.request("GET", "/settings", headers=headers), 401)
            assert_json_error(await client.request("GET", "/api/settings/x", headers=headers), 401)
            assert_json_error(await client.request("POST", "/settings", json={"a": 1}, headers=headers), 401)
            assert_json_error(await client.request("POST", "/settings/a", json=1, headers=headers), 401)
            assert_json_error(await client.request("GET", "/userdata", params={"dir": "w"}, headers=headers), 403)
            assert_json_error(await list_v2(client, headers=headers), 403)
            assert_json_error(await client.request("GET", "/userdata/a.json", headers=headers), 403)
            assert_json_error(await client.request("POST", "/userdata/a.json", data=b"x", headers=headers), 403)
            assert_json_error(await client.request("DELETE", "/userdata/a.json", headers=headers), 403)
            assert_json_error(await client.request("POST", "/userdata/a.json/move/b.json", headers=headers), 403)
    assert not (multi_server.base_dir / "user" / "default").exists()


@pytest.mark.asyncio
async def test_multi_user_folders_and_settings_are_separate(multi_server):
    async with KilnClient(multi_server.url) as client:
        carol = (await client.post_json("/users", {"username": "carol"})).json()
        dave = (await client.post_json("/users", {"username": "dave"})).json()
        as_carol, as_dave = {"Comfy-User": carol}, {"Comfy-User": dave}

        saved = await raw(client, "POST", "/api/userdata/workflows%2Fmine.json", data=b'{"owner": "carol"}',
                          headers=as_carol)
        assert saved.status == 200
        assert (multi_server.base_dir / "user" / carol / "workflows" / "mine.json").exists()
        await client.request("POST", "/settings/Owner", json="carol", headers=as_carol)

        assert (await client.request("GET", "/userdata/workflows%2Fmine.json", headers=as_dave)).status == 404
        for reach in (f"..%2F{carol}%2Fworkflows%2Fmine.json", f"%2e%2e%2F{carol}%2Fcomfy.settings.json",
                      "..%2Fusers.json"):
            for answer in (await raw(client, "GET", f"/userdata/{reach}", headers=as_dave),
                           await raw(client, "POST", f"/userdata/{reach}", data=b"x", headers=as_dave),
                           await raw(client, "DELETE", f"/userdata/{reach}", headers=as_dave),
                           await raw(client, "POST", f"/userdata/{reach}/move/got.json", headers=as_dave)):
                assert_json_error(answer, 403)
        assert_json_error(await client.request("GET", "/userdata", params={"dir": f"../{carol}"}, headers=as_dave),
                          403)
        assert_json_error(await list_v2(client, f"../{carol}", headers=as_dave), 400)
        assert (await list_v2(client, headers=as_dave)).json() == []
        assert (await client.request("GET", "/settings/Owner", headers=as_dave)).json() is None
        assert (await client.request("GET", "/settings/Owner", headers=as_carol)).json() == "carol"
        listed = (await client.request("GET", "/userdata", params={"dir": "workflows"}, headers=as_carol)).json()
        assert listed == ["mine.json"]
    assert (multi_server.base_dir / "user" / carol / "workflows" / "mine.json").read_text() == '{"owner": "carol"}'


# ---------------------------------------------------------------------------------------------------------------
# Restarts


@pytest.mark.asyncio
async def test_a_saved_workflow_and_a_setting_survive_a_restart(tmp_path_factory):
    first = start_server(tmp_path_factory, "kiln-userdata-restart")
    try:
        async with KilnClient(first.url) as client:
            assert await client.get_json("/users") == {"storage": "server", "migrated": False}
            assert (await client.post_json("/api/settings/Comfy.Locale", "fr")).status == 200
            assert await client.get_json("/users") == {"storage": "server", "migrated": True}
            saved = await raw(client, "POST", "/api/userdata/workflows%2Fkept.json", data=b'{"nodes": [1]}')
            assert saved.status == 200
    finally:
        first.stop()
    second = KilnServer(first.base_dir, [])
    second.start()
    try:
        async with KilnClient(second.url, api_prefix="/api") as client:
            assert await client.get_json("/settings/Comfy.Locale") == "fr"
            listed = await client.get_json("/userdata", dir="workflows", recurse="true", split="false",
                                           full_info="true")
            assert [entry["path"] for entry in listed] == ["kept.json"]
            read = await raw(client, "GET", "/api/userdata/workflows%2Fkept.json")
            assert read.status == 200 and read.body == b'{"nodes": [1]}'
    finally:
        second.stop()
