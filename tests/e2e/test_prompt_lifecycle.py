"""One prompt from submission to history, over HTTP and WebSocket: messages, ids, timestamps, history entry,
the `/api` twin of every route, the feature-flag handshake and per-client message targeting."""

from __future__ import annotations

import asyncio
import io
import json
import re
import struct
import time
import uuid

import aiohttp
import pytest
from PIL import Image

from .client import KilnClient
from .graphs import fresh, link, node, quick_prompt, slow_prompt
from .images import solid_png

pytestmark = pytest.mark.asyncio

PROMPT_MESSAGE_TYPES = {"execution_start", "execution_cached", "executing", "progress", "progress_state", "executed",
                        "execution_success", "execution_error", "execution_interrupted"}


def _assert_recent_timestamp(timestamp: object) -> None:
    assert isinstance(timestamp, int) and not isinstance(timestamp, bool), f"timestamp {timestamp!r} is not an int"
    now_ms = time.time() * 1000
    assert abs(now_ms - timestamp) < 120_000, f"timestamp {timestamp} is not milliseconds since the epoch (now {now_ms})"


async def test_connecting_sends_status_with_queue_remaining_and_the_client_id_as_sid(server):
    async with KilnClient(server.url) as client:
        first = await client.connect()
    assert first["type"] == "status"
    assert set(first["data"]) == {"status", "sid"}
    assert first["data"]["sid"] == client.client_id
    assert set(first["data"]["status"]) == {"exec_info"}
    assert set(first["data"]["status"]["exec_info"]) == {"queue_remaining"}
    assert isinstance(first["data"]["status"]["exec_info"]["queue_remaining"], int)


async def test_connecting_without_client_id_gets_a_32_hex_sid(server):
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{server.url}/ws") as ws:
        first = await ws.receive_json(timeout=10)
    assert first["type"] == "status"
    assert re.fullmatch(r"[0-9a-f]{32}", first["data"]["sid"]), first


async def test_system_stats_has_the_documented_shape(client, server):
    stats = await client.get_json("/system_stats")
    assert set(stats) == {"system", "devices"}
    assert set(stats["system"]) >= {"os", "ram_total", "ram_free", "comfyui_version", "required_frontend_version",
                                    "installed_templates_version", "required_templates_version", "python_version",
                                    "pytorch_version", "embedded_python", "argv"}
    assert isinstance(stats["system"]["ram_total"], int) and isinstance(stats["system"]["ram_free"], int)
    argv = stats["system"]["argv"]
    assert argv[0].endswith("main.py") and "--port" in argv and str(server.port) in argv
    assert stats["devices"], "no devices listed"
    for device in stats["devices"]:
        assert set(device) >= {"name", "type", "index", "vram_total", "vram_free", "torch_vram_total",
                               "torch_vram_free"}


async def test_model_folder_routes_list_folders_and_files(client):
    folders = await client.get_json("/models")
    assert {"checkpoints", "loras", "vae", "embeddings", "configs", "custom_nodes"} <= set(folders)
    assert await client.get_json("/models/checkpoints") == []
    assert (await client.get("/models/kiln_no_such_folder")).status == 404
    assert await client.get_json("/embeddings") == []


async def test_get_prompt_reports_queue_remaining(client):
    assert await client.get_json("/prompt") == {"exec_info": {"queue_remaining": 0}}


async def test_normal_prompt_sends_the_documented_message_sequence_and_history_entry(client):
    value = fresh()
    prompt = slow_prompt(seconds=1.5, value=value, steps=3)
    answer = await client.queue_prompt(prompt)
    assert set(answer) == {"prompt_id", "number", "node_errors"}
    assert answer["node_errors"] == {}
    prompt_id = answer["prompt_id"]
    assert isinstance(prompt_id, str) and prompt_id

    # While it runs, the prompt is in the running queue and has no history entry yet.
    await client.wait_for_type("progress", prompt_id)
    assert await client.history(prompt_id) == {}
    running = (await client.queue())["queue_running"]
    assert [item[1] for item in running] == [prompt_id]

    done_index = await client.wait_done(prompt_id)
    # `executing {node: null}` is the completion signal: the history entry must already be there.
    history = await client.history(prompt_id)
    assert list(history) == [prompt_id]
    entry = history[prompt_id]

    messages = client.messages_for(prompt_id)
    types = [message["type"] for message in messages]
    assert types[0] == "execution_start", types
    assert types[1] == "execution_cached", types
    assert types[-2:] == ["execution_success", "executing"], types
    assert set(types) <= PROMPT_MESSAGE_TYPES, types

    start, cached, success = (messages[types.index(kind)]["data"]
                              for kind in ("execution_start", "execution_cached", "execution_success"))
    assert set(start) == {"prompt_id", "timestamp"} and start["prompt_id"] == prompt_id
    assert set(cached) == {"nodes", "prompt_id", "timestamp"} and cached["prompt_id"] == prompt_id
    assert cached["nodes"] == []
    assert set(success) == {"prompt_id", "timestamp"} and success["prompt_id"] == prompt_id
    for data in (start, cached, success):
        _assert_recent_timestamp(data["timestamp"])
    assert start["timestamp"] <= cached["timestamp"] <= success["timestamp"]

    executing = [message["data"] for message in messages if message["type"] == "executing"]
    assert executing[-1] == {"node": None, "prompt_id": prompt_id}
    assert executing[:-1] == [{"node": node_id, "display_node": node_id, "prompt_id": prompt_id}
                              for node_id in ("1", "2", "3")]

    progress = [message["data"] for message in messages if message["type"] == "progress"]
    assert progress == [{"value": step, "max": 3, "prompt_id": prompt_id, "node": "2"} for step in (1, 2, 3)]
    index_of = {id(message): index for index, message in enumerate(messages)}
    executing_slow = next(m for m in messages if m["type"] == "executing" and m["data"]["node"] == "2")
    executing_output = next(m for m in messages if m["type"] == "executing" and m["data"]["node"] == "3")
    first_progress = next(m for m in messages if m["type"] == "progress")
    assert index_of[id(executing_slow)] < index_of[id(first_progress)] < index_of[id(executing_output)]

    executed = [message["data"] for message in messages if message["type"] == "executed"]
    assert executed == [{"node": "3", "display_node": "3", "output": {"value": [value]}, "prompt_id": prompt_id}]

    progress_states = [message["data"] for message in messages if message["type"] == "progress_state"]
    assert progress_states, "no progress_state messages"
    for state in progress_states:
        assert set(state) == {"prompt_id", "nodes"} and state["prompt_id"] == prompt_id
        for node_id, node_state in state["nodes"].items():
            assert set(node_state) == {"value", "max", "state", "node_id", "prompt_id", "display_node_id",
                                       "parent_node_id", "real_node_id"}, node_state
            assert node_state["node_id"] == node_id and node_state["prompt_id"] == prompt_id
            assert node_state["state"] in ("running", "finished", "error")
    final_states = {}
    for state in progress_states:
        final_states.update(state["nodes"])
    assert set(final_states) == {"1", "2", "3"}
    assert final_states["2"] == {"value": 3, "max": 3, "state": "finished", "node_id": "2", "prompt_id": prompt_id,
                                 "display_node_id": "2", "parent_node_id": None, "real_node_id": "2"}

    # The queue's `status` broadcast comes between execution_success and the completion signal.
    success_index = next(index for index, message in enumerate(client.messages)
                         if message["type"] == "execution_success" and message["data"]["prompt_id"] == prompt_id)
    statuses_between = [message for message in client.messages[success_index:done_index] if message["type"] == "status"]
    assert statuses_between, "no status message between execution_success and executing {node: null}"
    assert statuses_between[-1]["data"] == {"status": {"exec_info": {"queue_remaining": 0}}}

    assert set(entry) == {"prompt", "outputs", "status", "meta"}
    number, entry_prompt_id, entry_prompt, extra_data, outputs_to_execute = entry["prompt"]
    assert number == answer["number"]
    assert entry_prompt_id == prompt_id
    assert entry_prompt == prompt
    assert extra_data["client_id"] == client.client_id
    assert outputs_to_execute == ["3"]
    assert entry["outputs"] == {"3": {"value": [value]}}
    assert entry["status"] == {
        "status_str": "success",
        "completed": True,
        "messages": [["execution_start", start], ["execution_cached", cached], ["execution_success", success]],
    }
    assert entry["meta"] == {"3": {"node_id": "3", "display_node": "3", "parent_node": None, "real_node_id": "3"}}


async def test_queueing_broadcasts_status_with_the_new_queue_length(client):
    start = len(client.messages)
    run = await client.run(quick_prompt())
    statuses = [message["data"] for message in client.messages[start:] if message["type"] == "status"]
    assert {"status": {"exec_info": {"queue_remaining": 1}}} in statuses
    assert statuses[-1] == {"status": {"exec_info": {"queue_remaining": 0}}}
    assert run.history["status"]["status_str"] == "success"


async def test_prompt_numbers_increase_and_a_client_prompt_id_is_kept(client):
    first = await client.run(quick_prompt())
    chosen_id = str(uuid.uuid4())
    second = await client.run(quick_prompt(), prompt_id=chosen_id)
    assert second.prompt_id == chosen_id
    assert second.number > first.number
    assert second.history["prompt"][1] == chosen_id
    assert {message["data"]["prompt_id"] for message in second.messages} == {chosen_id}
    numbered = await client.run(quick_prompt(), number=12345)
    assert numbered.number == 12345 and isinstance(numbered.number, float)
    assert numbered.history["prompt"][0] == 12345


async def test_prompt_without_client_id_broadcasts_progress_but_no_client_only_messages(client):
    result = await client.submit(slow_prompt(seconds=0.2, steps=2), with_client_id=False)
    assert result.status == 200, result.body
    prompt_id = result.json()["prompt_id"]
    deadline = time.monotonic() + 30
    while not (history := await client.history(prompt_id)):
        assert time.monotonic() < deadline, "the prompt never reached the history"
        await asyncio.sleep(0.05)
    assert history[prompt_id]["status"]["status_str"] == "success"
    assert "client_id" not in history[prompt_id]["prompt"][3] or history[prompt_id]["prompt"][3]["client_id"] is None
    await client.run(quick_prompt())  # flush: everything about the first prompt has been sent by now
    received = client.messages_for(prompt_id)
    assert [m["data"]["value"] for m in received if m["type"] == "progress"] == [1, 2]
    client_only = {"execution_start", "execution_cached", "executing", "executed", "execution_success"}
    assert [message for message in received if message["type"] in client_only] == []


async def test_every_route_also_answers_under_the_api_prefix(server, client):
    run = await client.run({"1": node("EmptyImage", width=8, height=8, batch_size=1, color=fresh() % 0xFFFFFF),
                            "2": node("SaveImage", images=link(1), filename_prefix="kiln_api_twin")})
    image = run.outputs()["2"]["images"][0]
    view_query = f"/view?filename={image['filename']}&subfolder={image['subfolder']}&type={image['type']}"
    same_json = ["/features", "/prompt", "/queue", "/history?max_items=1", f"/history/{run.prompt_id}",
                 "/object_info/KilnTestInt", "/embeddings", "/models"]
    for path in same_json:
        plain = await client.request("GET", path, raw_path=True)
        under_api = await client.request("GET", "/api" + path, raw_path=True)
        assert plain.status == under_api.status == 200, (path, plain.status, under_api.status)
        assert plain.json() == under_api.json(), path
    for path in ["/system_stats", "/object_info"]:
        under_api = await client.request("GET", "/api" + path, raw_path=True)
        assert under_api.status == 200, path
        assert isinstance(under_api.json(), dict)
    plain = await client.request("GET", view_query, raw_path=True)
    under_api = await client.request("GET", "/api" + view_query, raw_path=True)
    assert plain.status == under_api.status == 200
    assert plain.body == under_api.body

    async with KilnClient(server.url, api_prefix="/api") as api_client:
        first = await api_client.connect()
        assert first["type"] == "status"
        api_run = await api_client.run(quick_prompt())
        assert api_run.history["status"]["status_str"] == "success"
        assert api_run.messages[-1]["data"] == {"node": None, "prompt_id": api_run.prompt_id}
        for path, body in [("/queue", {"clear": True}), ("/history", {"delete": ["no-such-prompt"]}),
                           ("/interrupt", {}), ("/free", {"unload_models": False, "free_memory": False})]:
            result = await api_client.post_json(path, body)
            assert result.status == 200, (path, result.status, result.body)
        upload = await api_client.upload_image(solid_png(fresh()), f"kiln_api_{fresh()}.png")
        assert upload.status == 200, upload.body


async def test_feature_flag_handshake_returns_the_server_flags_once(server):
    expected = {"supports_preview_metadata": True, "max_upload_size": 104857600.0}
    async with KilnClient(server.url) as client:
        await client.connect(feature_flags={"supports_preview_metadata": False})
        _, reply = await client.wait_for_type("feature_flags", timeout=10)
        assert reply["data"] == expected
        assert isinstance(reply["data"]["max_upload_size"], float)
        # Only the first client message is a handshake: later ones get no answer.
        assert client.ws is not None
        await client.ws.send_json({"type": "feature_flags", "data": {}})
        await client.ws.send_str("this is not JSON")
        await client.run(quick_prompt())
        assert [message["type"] for message in client.messages].count("feature_flags") == 1
        features = await client.get_json("/features")
    assert features == expected
    assert isinstance(features["max_upload_size"], float)


async def test_two_clients_each_receive_only_their_own_prompt_messages(server):
    async with KilnClient(server.url) as first, KilnClient(server.url) as second:
        await first.connect()
        await second.connect()
        first_id = (await first.queue_prompt(slow_prompt(seconds=0.3, steps=3)))["prompt_id"]
        second_id = (await second.queue_prompt(slow_prompt(seconds=0.3, steps=3)))["prompt_id"]
        await first.wait_done(first_id)
        await second.wait_done(second_id)
        for client, own, other in ((first, first_id, second_id), (second, second_id, first_id)):
            own_types = [message["type"] for message in client.messages_for(own)]
            for expected in ("execution_start", "executing", "progress", "executed", "execution_success"):
                assert expected in own_types, (expected, own_types)
            assert client.messages_for(other) == [], f"client {client.client_id} got the other client's messages"



async def test_previews_arrive_as_legacy_binary_frames_of_type_1(client):
    run = await client.run(slow_prompt(seconds=0.2, steps=2) | {"2": node(
        "KilnTestSlow", value=link(1), seconds=0.2, steps=2, preview=True)})
    assert run.history["status"]["status_str"] == "success"
    assert len(client.binary_frames) >= 1
    for frame in client.binary_frames:
        assert struct.unpack(">II", frame[:8]) == (1, 1), frame[:8]  # PREVIEW_IMAGE, JPEG
        image = Image.open(io.BytesIO(frame[8:]))
        _assert_preview_image(image)


async def test_previews_carry_metadata_for_clients_that_announce_supports_preview_metadata(server):
    async with KilnClient(server.url) as client:
        await client.connect(feature_flags={"supports_preview_metadata": True})
        await client.wait_for_type("feature_flags", timeout=10)
        run = await client.run(slow_prompt(seconds=0.2, steps=2) | {"2": node(
            "KilnTestSlow", value=link(1), seconds=0.2, steps=2, preview=True)})
    assert len(client.binary_frames) >= 1
    for frame in client.binary_frames:
        event_type, metadata_length = struct.unpack(">II", frame[:8])
        assert event_type == 4
        metadata = json.loads(frame[8:8 + metadata_length])
        assert metadata == {"node_id": "2", "prompt_id": run.prompt_id, "display_node_id": "2",
                            "parent_node_id": None, "real_node_id": "2", "image_type": "image/jpeg"}
        image = Image.open(io.BytesIO(frame[8 + metadata_length:]))
        _assert_preview_image(image)


def _assert_preview_image(image: Image.Image) -> None:
    """The node's 64x48 red preview, fitted into the 512-pixel preview box (ImageOps.contain keeps the aspect)."""
    assert image.format == "JPEG"
    assert max(image.size) <= 512 and image.size[0] * 48 == image.size[1] * 64, image.size
    assert _close_colour(image.convert("RGB").getpixel((image.size[0] // 2, image.size[1] // 2)), (200, 30, 30))


def _close_colour(actual: tuple, expected: tuple, tolerance: int = 8) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))
