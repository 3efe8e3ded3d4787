"""V3 custom nodes through the real server: the kiln-test-v3 pack (a `comfy_entrypoint()` ComfyExtension of
`io.ComfyNode` classes) loads, its `/object_info` entries are ComfyUI 0.3.64's, and its prompts give ComfyUI's
answers (tests/fixtures/comfyui/v3_pack, recorded by tools/oracle/record_v3_pack.py): hidden values, NodeOutput
with ui, lazy inputs, async execution, list inputs and outputs, expansion, blocking, validate_inputs, the class lock,
errors and previewed images with their metadata.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from .client import KilnClient
from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui" / "v3_pack"
RECORDED_INFO = json.loads((FIXTURE / "object_info.json").read_text())
RECORDED_RUNS = json.loads((FIXTURE / "recorded.json").read_text())


def _load_cases():
    spec = importlib.util.spec_from_file_location("kiln_v3_pack_cases", FIXTURE / "cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CASES = _load_cases()


@pytest.mark.parametrize("name", sorted(RECORDED_INFO))
async def test_v3_node_object_info_equals_comfyui(client: KilnClient, name: str):
    kiln = (await client.get_json(f"/object_info/{name}"))[name]

    assert kiln == RECORDED_INFO[name]
    assert list(kiln) == list(RECORDED_INFO[name])  # the key order clients see
    assert list(kiln["input"]) == list(RECORDED_INFO[name]["input"])


async def test_v3_pack_nodes_are_all_listed(client: KilnClient):
    listed = {name for name in await client.get_json("/object_info") if name.startswith("KilnTestV3")}

    assert listed == set(RECORDED_INFO)


async def _answer(client: KilnClient, case: dict) -> dict:
    """What the fixture keeps of one case, asked of Kiln the way the recorder asked ComfyUI."""
    response = await client.submit(case["prompt"], extra_data=case["extra_data"])
    if response.status != 200:
        return {"http_status": response.status, "error": response.json()}
    prompt_id = response.json()["prompt_id"]
    await client.wait_done(prompt_id)
    entry = (await client.history(prompt_id))[prompt_id]
    errors = [{field: data.get(field) for field in ("node_id", "node_type", "exception_message", "exception_type")}
              for kind, data in entry["status"]["messages"] if kind == "execution_error"]
    images: dict[str, list] = {}
    for node_id, output in entry["outputs"].items():
        for image in output.get("images", []):
            images.setdefault(node_id, []).append(CASES.describe_image(await client.download(image)))
    return {"http_status": 200, "status_str": entry["status"]["status_str"],
            "completed": entry["status"]["completed"], "outputs": entry["outputs"], "errors": errors,
            "images": images}


def _comparable(answer: dict) -> dict:
    """The answer with preview names masked and error messages without ComfyUI's trailing newline (ComfyUI
    appends "\n" and an out-of-memory tip to every execution_error message; Kiln sends the message alone, for
    V1 and V3 nodes alike)."""
    answer = CASES.without_random_names(answer)
    for error in answer.get("errors", []):
        error["exception_message"] = error["exception_message"].removesuffix("\n")
    return answer


@pytest.mark.parametrize("case", CASES.CASES, ids=[case["id"] for case in CASES.CASES])
async def test_v3_prompt_gives_comfyuis_answer(client: KilnClient, case: dict):
    answer = await _answer(client, case)

    assert _comparable(answer) == _comparable(RECORDED_RUNS[case["id"]])


async def test_async_v3_node_reports_its_progress(client: KilnClient):
    steps = 4
    run = await client.run({"1": node("KilnTestV3AsyncDouble", value=fresh(), steps=steps),
                            "2": node("KilnTestV3Show", value=link(1))})

    progress = [(data["value"], data["max"]) for data in run.of_type("progress") if data["node"] == "1"]
    assert progress == [(step, steps) for step in range(1, steps + 1)]


async def test_v3_node_with_fingerprint_is_cached_until_its_value_changes(client: KilnClient):
    value = 2 * fresh()
    prompt = {"1": node("KilnTestV3Even", value=value), "2": node("KilnTestV3Show", value=link(1))}

    first = await client.run(prompt)
    again = await client.run(prompt)
    changed = await client.run({**prompt, "1": node("KilnTestV3Even", value=value + 2)})

    assert "1" in first.executed_nodes()
    assert "1" not in again.executed_nodes()
    assert changed.outputs()["2"]["value"] == [value // 2 + 1]


async def test_v3_nodes_with_a_hidden_unique_id_are_cached_per_node(client: KilnClient):
    """Two identical V3 nodes that ask for their unique_id each run with their own id (Kiln keys such nodes by
    id, V1 and V3 alike; ComfyUI 0.3.64 does so only for V1's plain-string form and gives node 3 node 2's ui)."""
    run = await client.run({"1": node("KilnTestV3Int", value=fresh()),
                            "2": node("KilnTestV3Show", value=link(1)),
                            "3": node("KilnTestV3Show", value=link(1))})

    assert run.outputs()["2"]["unique_id"] == ["2"]
    assert run.outputs()["3"]["unique_id"] == ["3"]
