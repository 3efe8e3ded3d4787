"""Kiln's job API beyond ComfyUI: job states with queue position, timings and attempts, cancel, Idempotency-Key,
--max-queue (429 + Retry-After), POST /api/prompt?wait=, and /health, /ready, /metrics."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import pytest
import pytest_asyncio

from .conftest import start_server
from .graphs import fresh, quick_prompt, slow_prompt

pytestmark = pytest.mark.asyncio

MAX_QUEUE = 4
LONG_SECONDS = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kiln = start_server(tmp_path_factory, "kiln-job-api", ["--max-queue", str(MAX_QUEUE)])
    yield kiln
    kiln.stop()


@pytest_asyncio.fixture
async def idle_client(client):
    """A client whose test leaves the queue empty and nothing running."""
    yield client
    await client.post_json("/queue", {"clear": True})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        queue = await client.queue()
        if not queue["queue_running"] and not queue["queue_pending"]:
            return
        await client.interrupt()
        await asyncio.sleep(0.1)


async def start_long_prompt(client) -> str:
    prompt_id = (await client.queue_prompt(slow_prompt(LONG_SECONDS, steps=int(LONG_SECONDS * 10))))["prompt_id"]
    await client.wait_for_type("progress", prompt_id, timeout=30)
    return prompt_id


async def job(client, prompt_id: str) -> dict:
    return await client.get_json(f"/api/jobs/{prompt_id}")


async def test_unknown_job_is_404_with_a_json_error_under_both_prefixes(client):
    for path in (f"/api/jobs/{uuid.uuid4()}", f"/jobs/{uuid.uuid4()}", f"/api/jobs/{uuid.uuid4()}/cancel"):
        method = "POST" if path.endswith("/cancel") else "GET"
        result = await client.request(method, path)
        assert result.status == 404, path
        assert result.json()["error"]["type"] == "job_not_found"


async def test_jobs_report_state_queue_position_timings_and_attempts(idle_client):
    client = idle_client
    running_id = await start_long_prompt(client)
    pending_ids = [(await client.queue_prompt(quick_prompt()))["prompt_id"] for _ in range(2)]

    running = await job(client, running_id)
    assert running["status"] == "in_progress" and running["attempts"] == 1
    assert running["queued_at"] <= running["started_at"] and running["finished_at"] is None
    assert running["create_time"] == running["queued_at"]
    assert running["execution_start_time"] == running["started_at"]
    for position, prompt_id in enumerate(pending_ids):
        pending = await job(client, prompt_id)
        assert pending["status"] == "pending" and pending["queue_position"] == position
        assert pending["attempts"] == 0 and pending["started_at"] is None

    await client.interrupt(running_id)
    for prompt_id in pending_ids:
        await client.wait_done(prompt_id)
    done = await job(client, pending_ids[0])
    assert done["status"] == "completed" and "queue_position" not in done
    assert done["queued_at"] <= done["started_at"] <= done["finished_at"]
    assert done["execution_end_time"] == done["finished_at"] and done["attempts"] == 1
    assert done["outputs"] == {"2": {"value": [done["outputs"]["2"]["value"][0]]}}


async def test_cancel_works_for_a_pending_and_for_a_running_job(idle_client):
    client = idle_client
    running_id = await start_long_prompt(client)
    pending_id = (await client.queue_prompt(quick_prompt()))["prompt_id"]

    result = await client.request("POST", f"/api/jobs/{pending_id}/cancel")
    assert result.status == 200 and result.json()["status"] == "cancelled"
    result = await client.request("POST", f"/jobs/{running_id}/cancel")
    assert result.status == 200
    await client.wait_done(running_id, timeout=15)
    assert (await job(client, running_id))["status"] == "cancelled"
    assert (await job(client, pending_id))["status"] == "cancelled"
    assert client.messages_for(pending_id) == [], "a cancelled pending job never ran"
    again = await client.request("POST", f"/api/jobs/{pending_id}/cancel")
    assert again.status == 200 and again.json()["status"] == "cancelled"


async def test_a_repeated_idempotency_key_returns_the_first_job_and_queues_nothing(idle_client):
    client = idle_client
    key = str(uuid.uuid4())
    body = {"prompt": quick_prompt(), "client_id": client.client_id}
    first = await client.request("POST", "/prompt", json=body, headers={"Idempotency-Key": key})
    assert first.status == 200
    answer = first.json()
    await client.wait_done(answer["prompt_id"])
    again = await client.request("POST", "/api/prompt", json={**body, "prompt": quick_prompt()},
                                 headers={"Idempotency-Key": key})
    assert again.status == 200 and again.json() == answer
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await client.queue())["queue_pending"] == []
    other = await client.request("POST", "/prompt", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert other.json()["prompt_id"] != answer["prompt_id"]
    await client.wait_done(other.json()["prompt_id"])


async def test_a_full_queue_answers_429_with_retry_after(idle_client):
    client = idle_client
    await start_long_prompt(client)
    for _ in range(MAX_QUEUE):
        await client.queue_prompt(quick_prompt())
    refused = await client.submit(quick_prompt())
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["type"] == "queue_full"
    await client.post_json("/queue", {"clear": True})
    assert (await client.submit(quick_prompt())).status == 200


async def test_wait_answers_with_the_history_entry_or_202_and_the_job_url(idle_client):
    client = idle_client
    value = fresh()
    result = await client.request("POST", "/api/prompt?wait=20", json={"prompt": quick_prompt(value)})
    assert result.status == 200
    ((prompt_id, entry),) = result.json().items()
    assert entry["status"]["status_str"] == "success" and entry["outputs"] == {"2": {"value": [value]}}
    assert result.json() == await client.history(prompt_id)

    result = await client.request("POST", "/api/prompt?wait=0.3",
                                  json={"prompt": slow_prompt(LONG_SECONDS, steps=int(LONG_SECONDS * 10))})
    assert result.status == 202
    body = result.json()
    assert set(body) == {"prompt_id", "number", "job_url"}
    assert body["job_url"] == f"/api/jobs/{body['prompt_id']}" == result.headers["Location"]
    assert (await client.get_json(body["job_url"]))["status"] in ("pending", "in_progress")

    bad = await client.request("POST", "/api/prompt?wait=soon", json={"prompt": quick_prompt()})
    assert bad.status == 400 and bad.json()["error"]["type"] == "invalid_query"


async def test_health_ready_and_metrics(idle_client):
    client = idle_client
    health = await client.get("/health")
    assert health.status == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status == 200
    assert ready.json()["worker_alive"] is True and ready.json()["queue_depth"] == 0

    prompt = quick_prompt()
    await client.run(prompt)
    await client.run(prompt)  # the same prompt again: both nodes come from the cache
    result = await client.get("/metrics")
    assert result.status == 200 and result.headers["Content-Type"].startswith("text/plain")
    text = result.body.decode()

    def sample(name: str) -> float:
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        assert match, f"{name} missing from /metrics:\n{text}"
        return float(match.group(1))

    assert sample('kiln_jobs{state="completed"}') >= 2
    assert sample('kiln_jobs{state="pending"}') == 0
    assert sample("kiln_node_cache_hits_total") >= 2
    assert sample("kiln_node_cache_misses_total") >= 2
    assert sample("kiln_job_queue_wait_seconds_count") >= 2
    assert sample("kiln_job_execution_seconds_count") >= 2
    assert sample('kiln_job_execution_seconds_bucket{le="+Inf"}') == sample("kiln_job_execution_seconds_count")
    assert sample("kiln_model_loads_total") >= 0
    assert "# TYPE kiln_job_queue_wait_seconds histogram" in text
