"""Kiln on Ray (`--ray local:2`): a real server process that starts a private Ray instance with two CPU worker
actors, driven over HTTP and WebSocket like any ComfyUI client. `test_ray_cluster.py` runs this file inside a
network namespace that has only the loopback interface (so every Ray port is on 127.0.0.1); it is not collected
on its own (no `test_` prefix).

Two tiny SD1 checkpoints: the jobs of each land on the worker that holds it (each worker reads one file once),
every client gets its own complete message sequence, the images reach `/view` through the server (the workers
have their own private folders), a worker killed mid-job loses no job, and cancel reaches the running worker.
Each run has its own interrupt: one aimed at the prompt of one worker never stops the other's, and one that
arrives after the job was taken but before its run started (held by the kiln-test-nodes hold hook) stops it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")
pytestmark = pytest.mark.asyncio

from tests import model_factory  # noqa: E402

from .client import KilnClient  # noqa: E402
from .conftest import KilnServer  # noqa: E402
from .graphs import quick_prompt, slow_prompt  # noqa: E402
from .test_diffusion import standard_workflow  # noqa: E402

CHECKPOINTS = ("tiny-a.safetensors", "tiny-b.safetensors")
WORKERS_READY_SECONDS = 120.0
JOB_TIMEOUT = 240.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    base = tmp_path_factory.mktemp("kiln-ray")
    checkpoints = base / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    for seed, name in enumerate(CHECKPOINTS):
        model_factory.write_tiny_checkpoint(checkpoints / name, "SD15", seed)
    kiln = KilnServer(base, ["--ray", "local:2", "--ray-object-store-mb", "100"])
    kiln.start()
    asyncio.run(_wait_for_workers(kiln, 2))
    yield kiln
    kiln.stop()


async def _workers(kiln: KilnServer) -> list[dict]:
    async with KilnClient(kiln.url) as client:
        return (await client.get_json("/system_stats"))["workers"]


async def _wait_for_workers(kiln: KilnServer, count: int, **expected) -> list[dict]:
    deadline = time.monotonic() + WORKERS_READY_SECONDS
    while True:
        workers = await _workers(kiln)
        alive = [worker for worker in workers if worker["alive"]
                 and all(worker.get(key) == value for key, value in expected.items())]
        if len(alive) >= count:
            return workers
        assert kiln.is_alive(), kiln.log()
        assert time.monotonic() < deadline, f"workers not ready: {workers}\n{kiln.log()}"
        await asyncio.sleep(0.5)


async def _settled_workers(kiln: KilnServer) -> list[dict]:
    """/system_stats' workers once each worker's own report (refreshed every second) counts every job the
    dispatcher saw it finish, so its model reads are up to date."""
    deadline = time.monotonic() + 30
    while True:
        workers = await _workers(kiln)
        if all(worker.get("jobs_run") == worker["jobs_completed"] for worker in workers):
            return workers
        assert time.monotonic() < deadline, workers
        await asyncio.sleep(0.2)


def _assert_full_sequence(messages: list[dict], prompt_id: str, save_node: str = "9") -> None:
    """One complete run, as the single-process server sends it: start, cached, the nodes, the image, success,
    then `executing null`. (A run restarted after a worker died begins again at execution_start.)"""
    types = [message["type"] for message in messages]
    starts = [index for index, kind in enumerate(types) if kind == "execution_start"]
    assert starts, types
    last = types[starts[-1]:]
    assert last[1] == "execution_cached", last
    assert last[-2:] == ["execution_success", "executing"], last
    assert messages[-1]["data"]["node"] is None
    assert types.count("execution_success") == 1, types
    executed = [message["data"]["node"] for message in messages[starts[-1]:] if message["type"] == "executed"]
    assert executed == [save_node], types
    assert all(message["data"]["prompt_id"] == prompt_id for message in messages)


async def test_jobs_land_on_the_worker_that_holds_their_checkpoint(cluster: KilnServer):
    clients = [KilnClient(cluster.url) for _ in range(4)]
    for client in clients:
        await client.__aenter__()
        await client.connect()
    try:
        jobs = []  # (client, prompt_id, checkpoint)
        for index in range(20):
            client = clients[index % len(clients)]
            checkpoint = CHECKPOINTS[index % 2]
            answer = await client.queue_prompt(standard_workflow(checkpoint, seed=index, steps=2))
            jobs.append((client, answer["prompt_id"], checkpoint))
        for client, prompt_id, _ in jobs:
            await client.wait_done(prompt_id, timeout=JOB_TIMEOUT)

        ran_on = {checkpoint: [] for checkpoint in CHECKPOINTS}  # the workers of each checkpoint's jobs, in order
        filenames = set()
        for client, prompt_id, checkpoint in jobs:
            _assert_full_sequence(client.messages_for(prompt_id), prompt_id)
            entry = (await client.history(prompt_id))[prompt_id]
            assert entry["status"]["status_str"] == "success" and entry["status"]["attempt"] == 1
            ran_on[checkpoint].append(entry["status"]["worker"])
            [image] = entry["outputs"]["9"]["images"]
            filenames.add(image["filename"])
            view = await client.get("/view", filename=image["filename"], type="output")
            assert view.status == 200 and view.body.startswith(b"\x89PNG"), view.status
            assert (cluster.output_dir / image["filename"]).is_file()
        # No client saw another client's prompts.
        for client in clients:
            own = {prompt_id for owner, prompt_id, _ in jobs if owner is client}
            seen = {message["data"].get("prompt_id") for message in client.messages
                    if isinstance(message.get("data"), dict) and message["type"] != "status"}
            assert seen <= own | {None}, seen - own
        assert len(filenames) == 20  # each worker named its file *_00001_.png; the server kept all 20

        # Affinity: the two checkpoints started on different workers and stayed there (a worker left with
        # nothing of its own to do may take the other's last jobs); no worker read a checkpoint twice.
        homes = {checkpoint: workers[0] for checkpoint, workers in ran_on.items()}
        assert homes[CHECKPOINTS[0]] != homes[CHECKPOINTS[1]], ran_on
        for checkpoint, workers in ran_on.items():
            assert workers.count(homes[checkpoint]) >= 7, ran_on
        by_name = {worker["name"]: worker for worker in await _settled_workers(cluster)}
        for name, worker in by_name.items():
            ran = {checkpoint for checkpoint, workers in ran_on.items() if name in workers}
            assert worker["model_file_reads"] == dict.fromkeys(ran, 1), (name, worker["model_file_reads"], ran_on)
            assert worker["jobs_completed"] == sum(workers.count(name) for workers in ran_on.values())
            assert worker["device"]["type"] == "cpu"

        metrics = (await clients[0].get("/metrics")).body.decode()
        for name, worker in by_name.items():
            assert f'kiln_worker_jobs_total{{worker="{name}"}} {worker["jobs_completed"]}' in metrics
            reads = sum(worker["model_file_reads"].values())
            assert f'kiln_worker_model_file_reads_total{{worker="{name}"}} {reads}' in metrics
            assert f'kiln_worker_up{{worker="{name}"}} 1' in metrics
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)


async def test_a_worker_killed_mid_job_loses_no_job(cluster: KilnServer):
    async with KilnClient(cluster.url) as client:
        await client.connect()
        prompt_ids = []
        for index in range(6):
            answer = await client.queue_prompt(standard_workflow(CHECKPOINTS[index % 2], seed=1000 + index, steps=150))
            prompt_ids.append(answer["prompt_id"])
        # Wait until a job is well into its steps, then kill its worker's process.
        _, message = await client.wait_for(
            lambda message: message["type"] == "progress" and message["data"]["value"] >= 5, timeout=JOB_TIMEOUT)
        victim_prompt = message["data"]["prompt_id"]
        [victim] = [worker for worker in await _workers(cluster) if worker["current_prompt_id"] == victim_prompt]
        os.kill(victim["pid"], signal.SIGKILL)

        for prompt_id in prompt_ids:
            await client.wait_done(prompt_id, timeout=JOB_TIMEOUT)
        for prompt_id in prompt_ids:
            _assert_full_sequence(client.messages_for(prompt_id), prompt_id)
            entry = (await client.history(prompt_id))[prompt_id]
            assert entry["status"]["status_str"] == "success", entry["status"]
            assert entry["status"]["attempt"] == (2 if prompt_id == victim_prompt else 1)
        job = await client.get_json(f"/api/jobs/{victim_prompt}")
        assert job["attempts"] == 2 and job["status"] == "completed", job
        # The killed worker came back (a new process) and joined again.
        workers = await _wait_for_workers(cluster, 1, name=victim["name"], restarts=1)
        [restarted] = [worker for worker in workers if worker["name"] == victim["name"]]
        assert restarted["pid"] != victim["pid"] and restarted["jobs_lost"] == 1


async def test_cancel_and_interrupt_reach_the_running_worker(cluster: KilnServer):
    await _wait_for_workers(cluster, 2)
    async with KilnClient(cluster.url) as client:
        await client.connect()
        for seed, stop in enumerate(("cancel", "interrupt")):
            long_job = standard_workflow(CHECKPOINTS[0], seed=5000 + seed, steps=10000)
            prompt_id = (await client.queue_prompt(long_job))["prompt_id"]
            await client.wait_for(lambda message, prompt_id=prompt_id: message["type"] == "progress"
                                  and message["data"]["prompt_id"] == prompt_id, timeout=JOB_TIMEOUT)
            if stop == "cancel":
                answer = await client.post_json(f"/api/jobs/{prompt_id}/cancel", {})
                assert answer.status == 200, answer.body
            else:
                assert (await client.interrupt(prompt_id)).status == 200
            await client.wait_done(prompt_id, timeout=60)
            types = [message["type"] for message in client.messages_for(prompt_id)]
            assert "execution_interrupted" in types and "execution_success" not in types, types
            job = await client.get_json(f"/api/jobs/{prompt_id}")
            assert job["status"] == "cancelled", job


async def _job_status(client: KilnClient, prompt_id: str) -> str:
    return (await client.get_json(f"/api/jobs/{prompt_id}"))["status"]


async def test_an_interrupt_reaches_only_its_own_run_even_before_it_starts(cluster: KilnServer):
    await _wait_for_workers(cluster, 2)
    async with KilnClient(cluster.url) as client:
        await client.connect()
        # Two prompts without models run side by side, one on each worker.
        stopped = (await client.queue_prompt(slow_prompt(seconds=60, steps=600)))["prompt_id"]
        spared = (await client.queue_prompt(slow_prompt(seconds=4, steps=40)))["prompt_id"]
        for prompt_id in (stopped, spared):
            await client.wait_for(lambda message, prompt_id=prompt_id: message["type"] == "progress"
                                  and message["data"]["prompt_id"] == prompt_id, timeout=JOB_TIMEOUT)
        assert (await client.interrupt(stopped)).status == 200
        await client.wait_done(stopped, timeout=60)
        await client.wait_done(spared, timeout=60)
        assert await _job_status(client, stopped) == "cancelled"
        entries = {prompt_id: (await client.history(prompt_id))[prompt_id] for prompt_id in (stopped, spared)}
        assert entries[spared]["status"]["status_str"] == "success", entries[spared]["status"]
        assert entries[stopped]["status"]["worker"] != entries[spared]["status"]["worker"]

        # Taken from the queue and sent to a worker, held there before its run starts: the interrupt still stops it.
        hold = 8.0
        held = (await client.queue_prompt(quick_prompt(), extra_data={"kiln_test_hold_seconds": hold}))["prompt_id"]
        deadline = time.monotonic() + hold / 2
        while not any(worker["current_prompt_id"] == held for worker in await _workers(cluster)):
            assert time.monotonic() < deadline, "the held job did not reach a worker in time"
            await asyncio.sleep(0.1)
        assert client.messages_for(held) == [], "the held job started too early for this test"
        assert (await client.interrupt(held)).status == 200
        await client.wait_done(held, timeout=hold + 60)
        types = [message["type"] for message in client.messages_for(held)]
        assert types[0] == "execution_start" and "execution_interrupted" in types, types
        assert "execution_success" not in types, types
        assert await _job_status(client, held) == "cancelled"
