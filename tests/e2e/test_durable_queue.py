"""The queue and history survive the process: a SIGKILL mid-job loses nothing and runs nothing twice, and a
SIGTERM drains (no new prompts, the running one stopped at a step boundary and queued again) and exits 0."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .conftest import KilnServer, start_server
from .graphs import link, node

JOBS = 20
VICTIM = 5  # the job running when the process is killed
QUICK_SECONDS = 0.2
VICTIM_SECONDS = 2.5


def call(server: KilnServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One HTTP request; (status, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def get(server: KilnServer, path: str) -> Any:
    status, body = call(server, "GET", path)
    assert status == 200, f"GET {path} answered {status}: {body}"
    return body


def queue_prompt(server: KilnServer, prompt: dict) -> str:
    status, body = call(server, "POST", "/prompt", {"prompt": prompt})
    assert status == 200, body
    return body["prompt_id"]


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting until {what}")


def saving_prompt(index: int, seconds: float) -> dict:
    """A slow node whose value colours an 8x8 image saved under `durable/job<index>`."""
    return {
        "1": node("KilnTestInt", value=1000 + index),
        "2": node("KilnTestSlow", value=link(1), seconds=seconds, steps=max(1, int(seconds * 20))),
        "3": node("EmptyImage", width=8, height=8, batch_size=1, color=link(2)),
        "4": node("SaveImage", images=link(3), filename_prefix=f"durable/job{index:02d}"),
    }


def restart(server: KilnServer, extra_args: list[str] | None = None) -> KilnServer:
    """A new server process on the same folders (and so the same job store)."""
    again = KilnServer(server.base_dir, extra_args or [])
    again.start()
    return again


def job_status(server: KilnServer, prompt_id: str) -> str:
    return get(server, f"/api/jobs/{prompt_id}")["status"]


def test_sigkill_while_a_job_runs_loses_nothing_and_runs_every_job_exactly_once(tmp_path_factory):
    first = start_server(tmp_path_factory, "kiln-durable-kill")
    second = None
    try:
        prompt_ids = [queue_prompt(first, saving_prompt(index, VICTIM_SECONDS if index == VICTIM else QUICK_SECONDS))
                      for index in range(JOBS)]
        victim = prompt_ids[VICTIM]
        wait_until(lambda: job_status(first, victim) == "in_progress", 30, "the victim job runs")
        history_before = get(first, "/history")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)

        assert list(history_before) == prompt_ids[:VICTIM], "jobs ran out of order before the kill"
        second = restart(first)
        wait_until(lambda: len(get(second, "/history")) == JOBS, 60, "every job has finished")

        history = get(second, "/history")
        assert list(history) == prompt_ids, "jobs finished out of queue order"
        for prompt_id in prompt_ids[:VICTIM]:
            assert history[prompt_id] == history_before[prompt_id], "a finished job's history changed"
        output_dir = Path(second.output_dir)
        for index, prompt_id in enumerate(prompt_ids):
            entry = history[prompt_id]
            assert entry["status"]["status_str"] == "success", entry["status"]
            images = entry["outputs"]["4"]["images"]
            assert len(images) == 1
            assert (output_dir / images[0]["subfolder"] / images[0]["filename"]).is_file()
            job = get(second, f"/api/jobs/{prompt_id}")
            assert job["status"] == "completed"
            assert job["attempts"] == (2 if index == VICTIM else 1), (index, job)
            saved = sorted(path.name for path in (output_dir / "durable").glob(f"job{index:02d}_*.png"))
            assert len(saved) == 1, f"job {index} saved {saved}: it ran more than once"
        assert get(second, "/queue") == {"queue_running": [], "queue_pending": []}
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_sigterm_stops_the_running_node_exits_0_and_the_job_runs_again_after_restart(tmp_path_factory):
    first = start_server(tmp_path_factory, "kiln-durable-term")
    second = None
    try:
        running = queue_prompt(first, saving_prompt(0, 30.0))
        waiting = queue_prompt(first, saving_prompt(1, QUICK_SECONDS))
        wait_until(lambda: job_status(first, running) == "in_progress", 30, "the long job runs")
        asked = time.monotonic()
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=15) == 0
        assert time.monotonic() - asked < 5, "the running node did not stop at its next step"

        second = restart(first)
        job = get(second, f"/api/jobs/{running}")
        assert job["status"] in ("pending", "in_progress") and job["attempts"] >= 1
        assert get(second, f"/history/{running}") == {}, "an interrupted-by-shutdown job has no history entry"
        # Stop it again, quickly this time, then let both jobs finish.
        status, _ = call(second, "POST", f"/api/jobs/{running}/cancel")
        assert status == 200
        wait_until(lambda: job_status(second, waiting) == "completed", 30, "the waiting job has run")
        assert job_status(second, running) == "cancelled"
        assert get(second, f"/api/jobs/{running}")["attempts"] == 2
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_while_draining_new_prompts_get_503_and_a_job_that_finishes_in_time_is_kept(tmp_path_factory):
    first = start_server(tmp_path_factory, "kiln-durable-drain")
    second = None
    try:
        # An async sleep cannot be interrupted mid-await: the shutdown waits for it. The job is "in_progress" from
        # the moment it is taken, before its node runs (a SIGTERM then would stop it), so wait for the node itself.
        marker = first.base_dir / "sleeper-started"
        sleeper = queue_prompt(first, {"1": node("KilnTestAsyncSleep", value=7, seconds=3.0,
                                                 started_marker=str(marker))})
        wait_until(marker.exists, 30, "the sleeper's node runs")
        first.process.send_signal(signal.SIGTERM)
        wait_until(lambda: call(first, "GET", "/ready")[0] == 503, 5, "/ready reports the drain")
        status, body = call(first, "POST", "/prompt", {"prompt": {"1": node("KilnTestInt", value=1)}})
        assert status == 503 and body["error"]["type"] == "shutting_down"
        assert call(first, "GET", "/health")[0] == 200
        assert first.process.wait(timeout=15) == 0

        second = restart(first)
        job = get(second, f"/api/jobs/{sleeper}")
        assert job["status"] == "completed" and job["attempts"] == 1
        assert get(second, f"/history/{sleeper}")[sleeper]["outputs"]["1"]["value"] == [7]
    finally:
        first.stop()
        if second is not None:
            second.stop()
