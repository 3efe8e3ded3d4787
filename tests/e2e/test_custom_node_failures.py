"""Custom-node packs that fail to load leave the server serving everything else, and say why in the log as
ComfyUI 0.3.64 does (tests/fixtures/comfyui/custom_node_import_failures.json, from the oracle's log).

The server loads `custom_nodes_broken/` beside the usual test packs: a package whose import fails, a single-file
module that raises, a V3 pack whose `comfy_entrypoint` raises, one whose second node's schema is invalid (its first
node stays registered, as in ComfyUI), and one whose entrypoint returns no ComfyExtension.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from .client import KilnClient
from .conftest import TEST_CUSTOM_NODES, KilnServer, start_server
from .graphs import quick_prompt

BROKEN_PACKS = Path(__file__).resolve().parent / "custom_nodes_broken"
RECORDED = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "comfyui"
                       / "custom_node_import_failures.json").read_text())
FAILED_PACKS = ["kiln-broken-import", "kiln_broken_file.py", "kiln-broken-v3-entrypoint", "kiln-broken-v3-schema",
                "kiln-broken-v3-not-extension"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    kiln = start_server(tmp_path_factory, "kiln-broken-packs", custom_nodes_dirs=[TEST_CUSTOM_NODES, BROKEN_PACKS])
    yield kiln
    kiln.stop()


@pytest_asyncio.fixture
async def client(server: KilnServer):
    async with KilnClient(server.url) as kiln_client:
        await kiln_client.connect()
        yield kiln_client


def _log(server: KilnServer) -> list[str]:
    return server.log_path.read_text(encoding="utf-8", errors="replace").splitlines()


@pytest.mark.asyncio
async def test_server_with_failing_packs_runs_prompts(client: KilnClient):
    run = await client.run(quick_prompt())

    assert run.history["status"]["status_str"] == "success"


@pytest.mark.asyncio
async def test_object_info_lists_every_node_that_loaded(client: KilnClient):
    listed = await client.get_json("/object_info")

    assert {"KSampler", "SaveImage", "ImageBlend", "KilnTestInt", "KilnTestV3Sum", "KilnBrokenV3Good"} <= set(listed)
    assert "KilnBrokenV3DuplicateInputs" not in listed
    assert listed["KilnBrokenV3Good"]["python_module"] == "custom_nodes.kiln-broken-v3-schema"


def test_log_has_comfyuis_lines_for_each_failure(server: KilnServer):
    log = _log(server)
    expected = [line.replace("{broken}", str(BROKEN_PACKS)) for line in RECORDED["lines"]]
    timing = re.compile(r"^\s*\d+\.\d seconds")

    missing = [line for line in expected if not timing.match(line) and line not in log]
    assert missing == []
    import_times = [timing.sub("", line) for line in log if timing.match(line)]
    assert sorted(timing.sub("", line) for line in expected if timing.match(line)) == sorted(
        entry for entry in import_times if str(BROKEN_PACKS) in entry)


def test_import_times_list_the_working_packs_without_failure_mark(server: KilnServer):
    log = _log(server)

    for pack in ("kiln-test-nodes", "kiln-test-v3"):
        assert any(re.fullmatch(rf"\s*\d+\.\d seconds: {re.escape(str(TEST_CUSTOM_NODES / pack))}", line)
                   for line in log), pack


def test_log_has_each_failing_packs_traceback(server: KilnServer):
    text = "\n".join(_log(server))

    for pack in ("kiln-broken-import/__init__.py", "kiln_broken_file.py", "kiln-broken-v3-entrypoint/__init__.py"):
        assert re.search(rf"Traceback \(most recent call last\):\n(.*\n)*?.*File \"{re.escape(str(BROKEN_PACKS))}/"
                         rf"{re.escape(pack)}\"", text), pack
