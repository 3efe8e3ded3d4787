"""The queue, the history and the jobs API: paging, delete and clear, interrupting one prompt by id, and
job states through `/api/jobs`; each run its own interrupt: one that comes after the prompt was taken from the
queue but before its run started stops it, one aimed at a prompt that ends anyway never stops the next."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import pytest_asyncio

from .client import KilnClient
from .graphs import fresh, link, node, quick_prompt, slow_prompt

pytestmark = pytest.mark.asyncio

LONG_SECONDS = 30.0


@pytest_asyncio.fixture
async def idle_client(client):
    """A client whose test leaves nothing behind: the pending queue is cleared and a running prompt interrupted."""
    yield client
    await client.post_json("/queue", {"clear": True})
    await client.interrupt()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        queue = await client.queue()
        if not queue["queue_running"] and not queue["queue_pending"]:
            return
        await client.interrupt()
        await asyncio.sleep(0.1)


async def _start_slow_prompt(client) -> tuple[str, dict]:
    """Queue a long KilnTestSlow prompt and wait until it is running (its first progress message)."""
    prompt = slow_prompt(seconds=LONG_SECONDS, steps=int(LONG_SECONDS * 10))
    prompt_id = (await client.queue_prompt(prompt))["prompt_id"]
    await client.wait_for_type("progress", prompt_id, timeout=30)
    return prompt_id, prompt


def _progress_count(client, prompt_id: str) -> int:
    return sum(1 for message in client.messages_for(prompt_id) if message["type"] == "progress")


# ---- history ----------------------------------------------------------------------------------------------------

async def test_history_pages_with_max_items_and_offset_in_insertion_order(idle_client):
    client = idle_client
    assert (await client.post_json("/history", {"clear": True})).status == 200
    assert await client.history() == {}
    prompt_ids = [(await client.run(quick_prompt())).prompt_id for _ in range(4)]

    assert list(await client.history()) == prompt_ids
    assert list(await client.history(max_items=2)) == prompt_ids[2:]
    assert list(await client.history(max_items=2, offset=1)) == prompt_ids[1:3]
    assert list(await client.history(offset=3)) == prompt_ids[3:]
    assert await client.history(offset=10) == {}
    for entry in (await client.history(max_items=1)).values():
        assert set(entry) == {"prompt", "outputs", "status", "meta"}


async def test_history_delete_removes_one_entry_and_clear_removes_all(idle_client):
    client = idle_client
    prompt_ids = [(await client.run(quick_prompt())).prompt_id for _ in range(3)]
    result = await client.post_json("/history", {"delete": [prompt_ids[1]]})
    assert result.status == 200
    assert await client.history(prompt_ids[1]) == {}
    assert list(await client.history(prompt_ids[0])) == [prompt_ids[0]]
    assert list(await client.history(prompt_ids[2])) == [prompt_ids[2]]

    assert (await client.post_json("/history", {"clear": True})).status == 200
    assert await client.history() == {}
    assert await client.history(prompt_ids[0]) == {}


# ---- queue ------------------------------------------------------------------------------------------------------

async def test_queue_lists_running_and_pending_items_and_deletes_one_pending_item(idle_client):
    client = idle_client
    slow_id, slow = await _start_slow_prompt(client)
    pending = {}
    for _ in range(3):
        prompt = quick_prompt()
        pending[(await client.queue_prompt(prompt))["prompt_id"]] = prompt
    await client.wait_for(lambda m: m["type"] == "status"
                          and m["data"]["status"]["exec_info"]["queue_remaining"] == 4)
    assert await client.get_json("/prompt") == {"exec_info": {"queue_remaining": 4}}

    queue = await client.queue()
    assert set(queue) == {"queue_running", "queue_pending"}
    assert len(queue["queue_running"]) == 1
    running = queue["queue_running"][0]
    assert len(running) == 5
    number, prompt_id, prompt, extra_data, outputs_to_execute = running
    assert prompt_id == slow_id
    assert prompt == slow
    assert extra_data["client_id"] == client.client_id
    assert outputs_to_execute == ["3"]
    assert isinstance(number, (int, float))
    assert all(len(item) == 5 for item in queue["queue_pending"])
    assert {item[1]: item[2] for item in queue["queue_pending"]} == pending

    doomed, *kept = list(pending)
    assert (await client.post_json("/queue", {"delete": [doomed]})).status == 200
    queue = await client.queue()
    assert sorted(item[1] for item in queue["queue_pending"]) == sorted(kept)
    assert [item[1] for item in queue["queue_running"]] == [slow_id]

    await client.interrupt(slow_id)
    for prompt_id in kept:
        await client.wait_done(prompt_id)
        assert (await client.history(prompt_id))[prompt_id]["status"]["status_str"] == "success"
    assert await client.history(doomed) == {}
    assert client.messages_for(doomed) == []


async def test_queue_clear_drops_every_pending_item_but_not_the_running_one(idle_client):
    client = idle_client
    slow_id, _ = await _start_slow_prompt(client)
    pending_ids = [(await client.queue_prompt(quick_prompt()))["prompt_id"] for _ in range(2)]
    assert (await client.post_json("/queue", {"clear": True})).status == 200
    queue = await client.queue()
    assert queue["queue_pending"] == []
    assert [item[1] for item in queue["queue_running"]] == [slow_id]

    await client.interrupt(slow_id)
    await client.wait_done(slow_id)
    after = await client.run(quick_prompt())
    assert after.history["status"]["status_str"] == "success"
    for prompt_id in pending_ids:
        assert await client.history(prompt_id) == {}


async def test_front_prompt_runs_before_the_pending_ones(idle_client):
    client = idle_client
    slow_id, _ = await _start_slow_prompt(client)
    back = [await client.queue_prompt(quick_prompt()) for _ in range(2)]
    back_ids = [answer["prompt_id"] for answer in back]
    front = await client.queue_prompt(quick_prompt(), front=True)
    assert front["number"] < min(answer["number"] for answer in back)
    await client.interrupt(slow_id)
    done_order = [await client.wait_done(prompt_id) for prompt_id in [front["prompt_id"], *back_ids]]
    assert done_order == sorted(done_order), "the front prompt did not run first"


async def test_reconnecting_with_the_running_client_id_tells_the_executing_node(idle_client, server):
    client = idle_client
    slow_id, _ = await _start_slow_prompt(client)
    async with KilnClient(server.url, client_id=client.client_id) as again:
        first = await again.connect()
        assert first["type"] == "status" and first["data"]["sid"] == client.client_id
        _, executing = await again.wait_for_type("executing", timeout=10)
        assert executing["data"]["node"] == "2"
    await client.interrupt(slow_id)


# ---- interrupt --------------------------------------------------------------------------------------------------

async def test_interrupt_by_prompt_id_stops_only_the_matching_running_prompt(idle_client):
    client = idle_client
    slow_id, _ = await _start_slow_prompt(client)
    next_value = fresh()
    next_id = (await client.queue_prompt(quick_prompt(next_value)))["prompt_id"]

    # The pending prompt is not running: interrupting it by id must leave the running one alone.
    assert (await client.interrupt(next_id)).status == 200
    seen = _progress_count(client, slow_id)
    await client.wait_for(lambda m: m["type"] == "progress" and m["data"]["prompt_id"] == slow_id
                          and m["data"]["value"] > seen + 2, timeout=10)
    assert [item[1] for item in (await client.queue())["queue_running"]] == [slow_id]

    assert (await client.interrupt(slow_id)).status == 200
    await client.wait_done(slow_id, timeout=15)
    interrupted = [m["data"] for m in client.messages_for(slow_id) if m["type"] == "execution_interrupted"]
    assert len(interrupted) == 1
    assert set(interrupted[0]) == {"prompt_id", "node_id", "node_type", "executed", "timestamp"}
    assert interrupted[0]["prompt_id"] == slow_id
    assert interrupted[0]["node_id"] == "2"
    assert interrupted[0]["node_type"] == "KilnTestSlow"
    assert interrupted[0]["executed"] == ["1"]
    assert isinstance(interrupted[0]["timestamp"], int)
    status = (await client.history(slow_id))[slow_id]["status"]
    assert status["status_str"] == "error"
    assert status["completed"] is False
    assert status["messages"][-1] == ["execution_interrupted", interrupted[0]]

    await client.wait_done(next_id)
    entry = (await client.history(next_id))[next_id]
    assert entry["status"]["status_str"] == "success"
    assert entry["outputs"] == {"2": {"value": [next_value]}}


async def test_interrupt_while_idle_does_not_affect_the_next_prompt(idle_client):
    client = idle_client
    assert (await client.interrupt()).status == 200
    assert (await client.post_raw("/interrupt", b"not json")).status == 200
    run = await client.run(quick_prompt())
    assert run.history["status"]["status_str"] == "success"


# ---- jobs -------------------------------------------------------------------------------------------------------

async def _job(client, prompt_id: str) -> dict:
    job = await client.get_json(f"/api/jobs/{prompt_id}")
    assert job["id"] == prompt_id
    return job


async def _jobs(client, **params) -> list[dict]:
    answer = await client.get_json("/api/jobs", **params)
    assert set(answer) >= {"jobs", "pagination"}
    assert isinstance(answer["jobs"], list) and isinstance(answer["pagination"], dict)
    return answer["jobs"]


async def test_jobs_report_pending_in_progress_completed_and_failed(idle_client):
    client = idle_client
    completed_id = (await client.run(quick_prompt())).prompt_id
    failed_id = (await client.run({"1": node("KilnTestRaise", message="job failure"),
                                   "2": node("KilnTestIntOutput", value=link(1))})).prompt_id
    running_id, _ = await _start_slow_prompt(client)
    pending_id = (await client.queue_prompt(quick_prompt()))["prompt_id"]

    assert (await _job(client, completed_id))["status"] == "completed"
    assert (await _job(client, failed_id))["status"] == "failed"
    assert (await _job(client, running_id))["status"] == "in_progress"
    assert (await _job(client, pending_id))["status"] == "pending"

    for status, member, non_member in (("pending", pending_id, running_id), ("in_progress", running_id, pending_id),
                                       ("completed", completed_id, failed_id), ("failed", failed_id, completed_id)):
        jobs = await _jobs(client, status=status)
        assert all(job["status"] == status for job in jobs), (status, jobs)
        ids = [job["id"] for job in jobs]
        assert member in ids and non_member not in ids, (status, ids)

    all_ids = [job["id"] for job in await _jobs(client)]
    assert {completed_id, failed_id, running_id, pending_id} <= set(all_ids)
    assert len(await _jobs(client, limit=1)) == 1
    first_two = await _jobs(client, limit=2, offset=0)
    second_only = await _jobs(client, limit=1, offset=1)
    assert len(first_two) == 2 and len(second_only) == 1
    assert second_only[0]["id"] == first_two[1]["id"]


async def test_unknown_job_is_a_404_with_a_json_body(client):
    result = await client.get(f"/api/jobs/{uuid.uuid4()}")
    assert result.status == 404
    assert isinstance(result.json(), dict)


async def test_cancelling_a_pending_job_removes_it_before_it_runs(idle_client):
    client = idle_client
    running_id, _ = await _start_slow_prompt(client)
    pending_id = (await client.queue_prompt(quick_prompt()))["prompt_id"]
    result = await client.request("POST", f"/api/jobs/{pending_id}/cancel")
    assert result.status == 200, result.body
    assert (await _job(client, pending_id))["status"] == "cancelled"
    assert pending_id not in [item[1] for item in (await client.queue())["queue_pending"]]
    assert (await _job(client, running_id))["status"] == "in_progress"

    await client.interrupt(running_id)
    await client.wait_done(running_id, timeout=15)
    await client.run(quick_prompt())
    assert client.messages_for(pending_id) == []
    assert (await _job(client, pending_id))["status"] == "cancelled"


async def test_cancelling_a_running_job_interrupts_it(idle_client):
    client = idle_client
    running_id, _ = await _start_slow_prompt(client)
    result = await client.request("POST", f"/api/jobs/{running_id}/cancel")
    assert result.status == 200, result.body
    await client.wait_done(running_id, timeout=15)
    assert "execution_interrupted" in [message["type"] for message in client.messages_for(running_id)]
    assert (await _job(client, running_id))["status"] == "cancelled"


# ---- each run its own interrupt ----------------------------------------------------------------------------------

HOLD_SECONDS = 3.0


async def _start_held_prompt(client) -> str:
    """Queue a quick prompt that the kiln-test-nodes hold hook keeps between its claim and its run start for
    HOLD_SECONDS; return once the job is taken (in progress) and has not started (no execution_start)."""
    prompt_id = (await client.queue_prompt(quick_prompt(), extra_data={"kiln_test_hold_seconds": HOLD_SECONDS}))[
        "prompt_id"]
    deadline = time.monotonic() + HOLD_SECONDS / 2
    while (await _job(client, prompt_id))["status"] != "in_progress":
        assert time.monotonic() < deadline, "the held prompt was not taken from the queue in time"
        await asyncio.sleep(0.02)
    assert client.messages_for(prompt_id) == [], "the held prompt started too early for this test"
    return prompt_id


@pytest.mark.parametrize("how", ["interrupt by id", "interrupt", "cancel"])
async def test_an_interrupt_after_the_prompt_was_taken_but_before_its_run_started_stops_it(idle_client, how):
    client = idle_client
    prompt_id = await _start_held_prompt(client)
    if how == "cancel":
        assert (await client.request("POST", f"/api/jobs/{prompt_id}/cancel")).status == 200
    else:
        assert (await client.interrupt(prompt_id if how == "interrupt by id" else None)).status == 200
    await client.wait_done(prompt_id, timeout=HOLD_SECONDS + 15)
    types = [message["type"] for message in client.messages_for(prompt_id)]
    assert types[0] == "execution_start" and "execution_success" not in types, types
    [interrupted] = [m["data"] for m in client.messages_for(prompt_id) if m["type"] == "execution_interrupted"]
    assert interrupted["node_id"] == "1" and interrupted["executed"] == []
    assert (await _job(client, prompt_id))["status"] == "cancelled"
    assert (await client.run(quick_prompt())).history["status"]["status_str"] == "success"


async def test_an_interrupt_aimed_at_a_prompt_that_ends_anyway_never_stops_the_next_one(idle_client, tmp_path):
    client = idle_client
    # An async sleep cannot be interrupted mid-await, and nothing runs after it: the prompt ends well anyway. The
    # marker file says the sleep began (the "executing" message comes just before the node's interrupt check).
    marker = tmp_path / "sleeper-started"
    sleeper = (await client.queue_prompt({"1": node("KilnTestAsyncSleep", value=fresh(), seconds=1.5,
                                                     started_marker=str(marker))}))["prompt_id"]
    following = (await client.queue_prompt(quick_prompt(), extra_data={"kiln_test_hold_seconds": 0.5}))[
        "prompt_id"]
    for _ in range(600):
        if marker.exists():
            break
        await asyncio.sleep(0.05)
    assert marker.exists(), "the sleeper's node did not start within 30 s"
    assert (await client.interrupt(sleeper)).status == 200
    await client.wait_done(following, timeout=30)
    assert (await _job(client, sleeper))["status"] == "completed"
    entry = (await client.history(following))[following]
    assert entry["status"]["status_str"] == "success", entry["status"]
