"""POST /api/generate (one call from inputs to outputs) and GET /api/jobs/{id}/events (Server-Sent Events with
Last-Event-ID replay), on a real server whose checkpoints folder holds the shipped demo model."""

from __future__ import annotations

import io
import json
import shutil
import urllib.parse

import aiohttp
import pytest
from PIL import Image

from tools import shapes_dataset

from .client import KilnClient
from .conftest import REPO_ROOT, start_server
from .graphs import fresh, link, node, slow_prompt

pytestmark = pytest.mark.asyncio

DEMO_CHECKPOINT = REPO_ROOT / "models" / "checkpoints" / "kiln-demo-shapes.safetensors"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    kiln = start_server(tmp_path_factory, "kiln-generate")
    checkpoints = kiln.base_dir / "models" / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO_CHECKPOINT, checkpoints / DEMO_CHECKPOINT.name)
    yield kiln
    kiln.stop()


async def generate(kiln, body: dict, accept: str = "application/json") -> tuple[int, dict, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{kiln.url}/api/generate", json=body, headers={"Accept": accept}) as response:
            return response.status, dict(response.headers), await response.read()


def ui_workflow(colour: int) -> dict:
    """EmptyImage -> SaveImage as the editor saves it."""
    return {
        "last_node_id": 2, "last_link_id": 1, "version": 0.4, "links": [[1, 1, 0, 2, 0, "IMAGE"]],
        "nodes": [
            {"id": 1, "type": "EmptyImage", "pos": [0, 0], "size": [300, 130], "mode": 0, "order": 0,
             "inputs": [], "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
             "widgets_values": [16, 8, 1, colour]},
            {"id": 2, "type": "SaveImage", "pos": [400, 0], "size": [300, 300], "mode": 0, "order": 1,
             "inputs": [{"name": "images", "type": "IMAGE", "link": 1}], "outputs": [],
             "widgets_values": ["generated"]},
        ],
    }


async def test_with_no_workflow_the_demo_model_draws_the_text_of_set_and_answers_the_png(demo_server):
    status, headers, body = await generate(
        demo_server, {"set": {"6.text": "a red circle on a blue background", "3.seed": 7}}, accept="image/png")
    assert status == 200, body[:500]
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith('inline; filename="kiln-demo_')
    picture = Image.open(io.BytesIO(body))
    assert picture.size == (64, 64)
    assert shapes_dataset.dominant_colours(__import__("numpy").asarray(picture.convert("RGB"))) == ("red", "blue")


async def test_a_ui_workflow_runs_and_json_lists_the_outputs_with_their_view_urls(demo_server):
    status, _, body = await generate(demo_server, {"workflow": ui_workflow(0x0000FF), "set": {"1.height": 12}})
    assert status == 200, body[:500]
    answer = json.loads(body)
    assert answer["status"] == "success" and set(answer["outputs"]) == {"2"}
    (saved,) = answer["files"]
    assert saved["filename"].startswith("generated_") and saved["type"] == "output"
    assert saved["content_type"] == "image/png"
    async with aiohttp.ClientSession() as session:
        async with session.get(demo_server.url + saved["url"]) as response:
            assert response.status == 200
            picture = Image.open(io.BytesIO(await response.read())).convert("RGB")
    assert picture.size == (16, 12) and picture.getpixel((3, 3)) == (0, 0, 255)
    # the saved PNG embeds the UI workflow, as an editor run's would
    async with KilnClient(demo_server.url) as client:
        history = await client.history(answer["prompt_id"])
    assert history[answer["prompt_id"]]["prompt"][3]["extra_pnginfo"]["workflow"]["nodes"][0]["type"] == "EmptyImage"


async def test_an_api_workflow_with_accept_json_and_a_saved_workflow_by_name(demo_server):
    prompt = {"1": node("EmptyImage", width=8, height=8, batch_size=1, color=fresh() % 0xFFFFFF),
              "2": node("SaveImage", images=link(1), filename_prefix="api")}
    status, _, body = await generate(demo_server, {"workflow": prompt})
    assert status == 200 and json.loads(body)["files"][0]["filename"].startswith("api_")

    async with aiohttp.ClientSession() as session:
        stored = await session.post(f"{demo_server.url}/api/userdata/{urllib.parse.quote('workflows/mine.json', '')}",
                                    data=json.dumps(ui_workflow(0x00FF00)))
        assert stored.status == 200
    status, headers, body = await generate(demo_server, {"workflow": "mine"}, accept="image/*")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(body)).convert("RGB").getpixel((0, 0)) == (0, 255, 0)

    status, _, body = await generate(demo_server, {"workflow": "no-such-workflow"})
    assert status == 404 and json.loads(body)["error"]["type"] == "workflow_not_found"


async def test_a_job_not_done_within_wait_answers_202_with_its_job_url(demo_server):
    status, headers, body = await generate(demo_server, {"workflow": slow_prompt(1.0), "wait": 0})
    assert status == 202, body[:500]
    answer = json.loads(body)
    assert headers["Location"] == answer["job_url"] == f"/api/jobs/{answer['prompt_id']}"
    async with KilnClient(demo_server.url) as client:
        job = await client.get_json(answer["job_url"])
    assert job["id"] == answer["prompt_id"]


@pytest.mark.parametrize(("settings", "node_id", "input_name"), [
    ({"99.text": "x"}, "99", "text"),
    ({"6.nope": 1}, "6", "nope"),
    ({"3.steps": "many"}, "3", "steps"),
])
async def test_bad_set_entries_are_400_naming_the_node_and_the_input(demo_server, settings, node_id, input_name):
    status, _, body = await generate(demo_server, {"set": settings})
    assert status == 400
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_set"
    assert error["extra_info"] == {"node_id": node_id, "input_name": input_name}
    assert f"{node_id}.{input_name}" in error["details"]


async def test_a_workflow_that_fails_validation_is_a_400_in_comfyuis_shape(demo_server):
    status, _, body = await generate(demo_server, {"set": {"4.ckpt_name": "missing.safetensors"}})
    assert status == 400
    answer = json.loads(body)
    assert answer["error"]["type"] == "prompt_outputs_failed_validation" and "4" in answer["node_errors"]


# --- Server-Sent Events ------------------------------------------------------------------------------------------


async def read_events(response: aiohttp.ClientResponse, stop_after: int | None = None) -> list[tuple[int, str, dict]]:
    """Parse `text/event-stream` frames until the stream ends (or `stop_after` events)."""
    events, fields = [], {}
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith(":"):
            continue
        if line:
            key, _, value = line.partition(": ")
            fields[key] = value
            continue
        if fields:
            events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
            fields = {}
            if stop_after is not None and len(events) >= stop_after:
                break
    return events


async def test_a_client_that_reconnects_with_last_event_id_gets_exactly_the_events_it_missed(demo_server):
    async with KilnClient(demo_server.url) as client:
        answer = await client.queue_prompt(slow_prompt(1.5, steps=15), with_client_id=False)
    prompt_id = answer["prompt_id"]
    url = f"{demo_server.url}/api/jobs/{prompt_id}/events"
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            first = await read_events(response, stop_after=4)
        async with session.get(url, headers={"Last-Event-ID": str(first[-1][0])}) as response:
            rest = await read_events(response)
        async with session.get(url) as response:
            replay = await read_events(response)

    seen = first + rest
    assert [event_id for event_id, _, _ in seen] == list(range(1, len(seen) + 1))
    assert seen == replay  # after the end, the whole stream again from the store
    kinds = [kind for _, kind, _ in seen]
    assert kinds[-1] == "end" and kinds.count("end") == 1
    assert {"execution_start", "executing", "progress", "executed", "execution_success"} <= set(kinds)
    end = seen[-1][2]
    assert end["state"] == "completed" and end["status"] == "success" and "3" in end["outputs"]
    assert all(data.get("prompt_id") == prompt_id for _, _, data in seen)

    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Last-Event-ID": str(len(seen))}) as response:
            assert await read_events(response) == []
        async with session.get(f"{demo_server.url}/api/jobs/no-such-job/events") as response:
            assert response.status == 404


async def test_the_openapi_document_and_its_offline_docs_page_are_served(demo_server):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{demo_server.url}/api/openapi.json") as response:
            document = await response.json()
        assert "/api/generate" in document["paths"] and "/api/jobs/{job_id}/events" in document["paths"]
        async with session.get(f"{demo_server.url}/api/docs") as response:
            assert response.status == 200 and "swagger-ui-bundle.js" in await response.text()
        for asset in ("docs/static/swagger-ui-bundle.js", "docs/static/swagger-ui.css", "docs/kiln-docs.js"):
            async with session.get(f"{demo_server.url}/api/{asset}") as response:
                assert response.status == 200, asset
