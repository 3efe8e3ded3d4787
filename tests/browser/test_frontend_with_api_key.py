"""The web frontend on a server started with `--api-key`, in a real Chromium: opening `/?token=KEY` signs the
browser in (a session cookie, then a redirect to `/`), after which the page, every request the frontend makes and
its WebSocket work without the key; a browser that never signed in gets a 401 at `/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import KilnServer

from .editor import find_in_node_library, new_context, open_editor

API_KEY = "kiln-browser-key-5d1e"


@pytest.fixture(scope="module")
def keyed_kiln(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    """A server that answers only requests with `API_KEY` or a session cookie (no models: none are needed)."""
    server = KilnServer(tmp_path_factory.mktemp("kiln-browser-keyed"), ["--api-key", API_KEY])
    server.ready_path = f"/system_stats?token={API_KEY}"
    server.start()
    yield server
    server.stop()


def test_a_browser_signed_in_with_the_token_renders_the_editor_and_loads_the_node_library(
        chromium, keyed_kiln: KilnServer, screenshots: Path):
    context = new_context(chromium, keyed_kiln)
    refused: list[str] = []
    status_messages: list[str] = []

    def watch(page) -> None:
        page.on("response", lambda response: refused.append(f"{response.status} {response.url}")
                if response.status in (401, 403) else None)
        page.on("websocket", lambda socket: socket.on(
            "framereceived", lambda frame: status_messages.append(frame)
            if isinstance(frame, str) and json.loads(frame).get("type") == "status" else None))

    context.on("page", watch)
    try:
        editor = open_editor(context, keyed_kiln, screenshots, first_run=True, path=f"/?token={API_KEY}")
        page = editor.page
        assert page.url == keyed_kiln.url + "/"  # the key is gone from the address bar
        [cookie] = context.cookies()
        assert cookie["name"].startswith("kiln_session_") and API_KEY not in cookie["value"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        canvas = page.locator("canvas#graph-canvas")
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 300
        editor.screenshot("api-key-01-editor")
        find_in_node_library(editor, "KSampler", "KSampler", "api-key-02-node-library")
        page.wait_for_function("() => document.cookie === ''")  # HttpOnly: no script can read the session
        assert status_messages, "the WebSocket never delivered a status message"
        assert refused == []
        assert editor.page_errors == []
    finally:
        context.close()


def test_a_sign_in_link_clicked_on_another_site_still_opens_the_editor(chromium, keyed_kiln: KilnServer):
    """A Strict cookie is withheld from a navigation another site started, redirects included; the sign-in page
    that moves on by itself makes the editor load anyway."""
    context = new_context(chromium, keyed_kiln)
    try:
        page = context.new_page()
        page.set_content(f'<a id="sign-in" href="{keyed_kiln.url}/?token={API_KEY}">Kiln</a>')  # about:blank
        page.click("#sign-in")
        page.wait_for_url(keyed_kiln.url + "/")
        page.wait_for_function("() => window.app?.graph && document.querySelector('canvas')")
    finally:
        context.close()


def test_a_browser_that_never_signed_in_gets_a_401_at_the_root(chromium, keyed_kiln: KilnServer):
    context = new_context(chromium, keyed_kiln)
    try:
        page = context.new_page()
        response = page.goto(keyed_kiln.url + "/")
        assert response is not None and response.status == 401
        assert json.loads(page.locator("body").inner_text())["error"]["type"] == "unauthorized"
        assert context.cookies() == []
    finally:
        context.close()
