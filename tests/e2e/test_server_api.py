"""The server-facing names custom nodes use: routes on `PromptServer.instance.routes` (also under /api),
`send_sync` messages to the prompt's client, on_prompt handlers, and the comfy_api progress API."""

from __future__ import annotations

import pytest

from .graphs import fresh, node

pytestmark = pytest.mark.asyncio


async def test_a_route_added_by_a_custom_node_answers_at_its_path_and_under_api(client):
    for path in ("/kiln_test/hello", "/api/kiln_test/hello"):
        assert await client.get_json(path) == {"hello": "from a custom node"}


async def test_send_sync_from_a_node_reaches_the_prompts_client(client):
    text = f"hello {fresh()}"
    await client.run({"1": node("KilnTestAnnounce", text=text)})
    announced = [message["data"] for message in client.messages if message["type"] == "kiln_test.announce"]
    assert {"text": text} in announced


async def test_an_on_prompt_handler_rewrites_the_prompt_before_it_is_queued(client):
    run = await client.run({"1": node("KilnTestTagged", tag=f"original {fresh()}")})
    assert run.outputs()["1"] == {"tag": ["rewritten by on_prompt"]}


@pytest.mark.parametrize("use_async", [True, False])
async def test_comfy_api_set_progress_updates_progress_state(client, use_async):
    steps = 3 + fresh() % 5
    run = await client.run({"1": node("KilnTestApiProgress", steps=steps, use_async=use_async)})
    states = [data["nodes"]["1"] for data in run.of_type("progress_state") if "1" in data["nodes"]]
    assert [state["value"] for state in states if state["state"] == "running"][-1] == steps
    assert all(state["max"] == steps for state in states if state["value"] > 0)
    assert run.history["status"]["status_str"] == "success"
