"""Driving the web frontend in Debian's Chromium: the browser's flags, a fresh context that may only reach the
Kiln server, and loading the editor."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.conftest import KilnServer

CHROMIUM = os.environ.get("KILN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
# Playwright's wait for one UI step.
STEP_TIMEOUT_MS = 30_000


@dataclass
class EditorPage:
    """A page with the frontend loaded, the uncaught errors it raised, and a screenshot saver."""

    page: Page
    screenshots: Path
    page_errors: list[str] = field(default_factory=list)

    def screenshot(self, stage: str) -> Path:
        path = self.screenshots / f"{stage}.png"
        self.page.screenshot(path=str(path))
        return path


def new_context(browser: Browser, server: KilnServer) -> BrowserContext:
    """A fresh profile (no cookies, no local storage) that may only talk to `server`."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    allowed = (server.url + "/", "blob:", "data:")
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(allowed)
                  else route.abort())
    return context


def open_editor(context: BrowserContext, server: KilnServer, screenshots: Path, *, first_run: bool,
                path: str = "/") -> EditorPage:
    """Load the frontend from `path` and wait until its graph canvas is up. On a first run (no settings saved yet)
    the frontend opens its templates dialog; it is closed the way a user would, with Escape."""
    page = context.new_page()
    editor = EditorPage(page, screenshots)
    page.on("pageerror", lambda error: editor.page_errors.append(f"{error.name}: {error.message}"))
    page.goto(server.url + path)
    page.wait_for_function("() => window.app?.graph && document.querySelector('canvas')")
    if first_run:
        page.get_by_role("dialog").wait_for()
        page.keyboard.press("Escape")
        page.get_by_role("dialog").wait_for(state="detached")
    page.get_by_role("button", name="Run", exact=True).wait_for()
    return editor


def find_in_node_library(editor: EditorPage, query: str, shown_as: str, stage: str) -> None:
    """Open the node library, search it for `query`, wait until a node shown as `shown_as` is listed, save the
    screenshot `stage`, and close the library again."""
    page = editor.page
    page.get_by_role("button", name="Node Library (n)").click()
    page.get_by_placeholder("Search Nodes...").fill(query)
    page.get_by_role("tree").get_by_text(shown_as, exact=True).first.wait_for()
    editor.screenshot(stage)
    page.get_by_role("button", name="Node Library (n)").click()
