"""Fixtures of the browser suite: a Kiln server with a tiny SD1 checkpoint, and Debian's Chromium driven by
Playwright for Python.

Chromium is the system one (`apt-get install chromium`: /usr/bin/chromium, or KILN_CHROMIUM); Playwright's own
browser download is never used. When it is absent the tests skip, saying so, unless `KILN_REQUIRE_BROWSER=1` (set
by `.ci/run`): then they fail, so CI can never pass without having run them. Every browser context starts from
a fresh profile and may only reach the Kiln server: requests to other hosts (update checks, the model downloads the
frontend's default workflow asks for) are aborted, so the suite runs offline and never waits on the network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.e2e.conftest import KilnServer, pytest_runtest_makereport  # noqa: F401  (the hook attaches server logs)

from .editor import CHROMIUM, CHROMIUM_ARGS

CHECKPOINT_NAME = "tiny-SD15.safetensors"
REQUIRE_BROWSER_VARIABLE = "KILN_REQUIRE_BROWSER"


@pytest.fixture(scope="session", autouse=True)
def require_chromium() -> None:
    """Skip the browser suite when Chromium is missing, or fail it when `KILN_REQUIRE_BROWSER=1`."""
    if os.path.exists(CHROMIUM):
        return
    message = (f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium, or set KILN_CHROMIUM): "
               "the browser suite drives a real browser")
    if os.environ.get(REQUIRE_BROWSER_VARIABLE) == "1":
        pytest.fail(f"{message}; {REQUIRE_BROWSER_VARIABLE}=1 requires it to run", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def kiln(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    """A server whose checkpoints folder holds the tiny SD1 checkpoint `CHECKPOINT_NAME`."""
    from tests.model_factory import write_tiny_checkpoint

    base_dir = tmp_path_factory.mktemp("kiln-browser")
    checkpoints = base_dir / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    write_tiny_checkpoint(checkpoints / CHECKPOINT_NAME, "SD15", 0)
    server = KilnServer(base_dir, [])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each stage's screenshot goes (printed, so a failing run shows where to look)."""
    folder = tmp_path_factory.mktemp("browser-screenshots")
    print(f"browser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


