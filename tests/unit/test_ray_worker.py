"""The Ray worker's body (`KilnWorker`) as a plain object, without Ray: the event stream of a job, per-job
cancellation (an interrupt for another prompt leaves the job alone; one that arrives before `execute` stops the
job as it starts), the `PromptServer.instance` stand-in custom nodes see, and the one run path it shares with the
local runner and `main.py run`."""

from __future__ import annotations

import threading

import pytest

import cli_run
import execution
import nodes
from comfy_execution.progress import install_progress_hook
from comfy_execution.prompt_queue import PromptQueue
from comfy_execution.runner import LocalRunner
from comfy_execution.server_stand_in import ServerStandIn, install_server_stand_in
from execution import PromptExecutor
from tests.unit import engine_nodes
from tests.unit.test_executor import RecordingSink
from tests.unit.test_runner import ENTERED, GATES, WAIT_SECONDS, Gate, gate, gated_prompt, quick_prompt
from tests.unit.worker_body import plain_worker


class Announce:
    """Sends a custom message the way custom nodes do: `PromptServer.instance.send_sync(...)`."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value):
        from server import PromptServer

        server = PromptServer.instance
        server.send_sync("test.announce", {"value": value}, server.client_id)
        return (value,)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    with plain_worker(tmp_path_factory.mktemp("worker")) as body:
        nodes.NODE_CLASS_MAPPINGS.update(engine_nodes.ENGINE_NODES, TestGate=Gate, TestAnnounce=Announce)
        yield body


@pytest.fixture(autouse=True)
def open_gates():
    yield
    for event in GATES.values():
        event.set()


def job(prompt_id: str, prompt: dict) -> list:
    return [0, prompt_id, prompt, {"client_id": "c"}, [max(prompt, key=int)]]


def run_job(worker, item: list) -> list[tuple]:
    return list(worker.execute(item, {}, {}))


def start_job(worker, item: list) -> tuple[threading.Thread, list[tuple]]:
    """Run the job on another thread, as Ray runs `execute` on one of the actor's threads."""
    events: list[tuple] = []
    thread = threading.Thread(target=lambda: events.extend(worker.execute(item, {}, {})))
    thread.start()
    return thread, events


def done(events: list[tuple]) -> dict:
    assert events[-1][0] == "done", events[-3:]
    return events[-1][1]


def test_a_job_streams_the_executors_messages_in_order_then_its_result(worker):
    runs_before = worker.jobs_run
    events = run_job(worker, job("streamed", quick_prompt()))
    assert {event[0] for event in events[:-1]} == {"message"}
    names = [event[1] for event in events[:-1] if event[1] != "progress_state"]
    assert names == ["execution_start", "execution_cached", "executing", "executing", "executed",
                     "execution_success"]
    assert all(event[3] == "c" for event in events[:-1]), "every message goes to the client that queued the job"
    result = done(events)
    assert result["success"] and list(result["history_result"]["outputs"]) == ["2"]
    assert [event for event, _ in result["messages"]] == ["execution_start", "execution_cached", "execution_success"]
    assert worker.jobs_run == runs_before + 1 and worker.info()["current_prompt_id"] is None


def test_an_interrupt_for_another_prompt_leaves_the_running_job_alone(worker):
    release = gate("w1")
    thread, events = start_job(worker, job("gated", gated_prompt("w1")))
    assert ENTERED["w1"].wait(WAIT_SECONDS)
    assert worker.info()["current_prompt_id"] == "gated"
    worker.interrupt("another-prompt")
    release.set()
    thread.join(WAIT_SECONDS)
    assert done(events)["success"]


def test_an_interrupt_stops_the_running_job_only(worker):
    gate("w2")
    thread, events = start_job(worker, job("stopped", gated_prompt("w2")))
    assert ENTERED["w2"].wait(WAIT_SECONDS)
    assert worker.interrupt("stopped")
    thread.join(WAIT_SECONDS)
    result = done(events)
    assert not result["success"] and result["messages"][-1][0] == "execution_interrupted"
    assert done(run_job(worker, job("next", quick_prompt())))["success"]


def test_an_interrupt_that_arrives_before_execute_stops_the_job_as_it_starts(worker):
    # The server sends `interrupt` and `execute` as separate calls; the interrupt may be handled first.
    worker.interrupt("cancelled-early")
    result = done(run_job(worker, job("cancelled-early", quick_prompt())))
    assert not result["success"]
    event, data = result["messages"][-1]
    assert event == "execution_interrupted" and data["node_id"] == "1"
    assert done(run_job(worker, job("after-it", quick_prompt())))["success"]


def test_custom_nodes_on_a_worker_see_a_stand_in_that_reports_into_the_job(worker):
    from server import PromptServer

    if PromptServer.created is not None:
        pytest.skip("this test process has a real PromptServer")
    instance = PromptServer.instance
    assert isinstance(instance, ServerStandIn) and not isinstance(instance, PromptServer)
    assert instance.sink is worker.sink

    def handler(request):
        return None

    assert instance.routes.get("/kiln_test/worker_route")(handler) is handler
    assert list(instance.routes) == [], "a worker serves no routes"
    instance.add_on_prompt_handler(lambda data: data)
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 41}},
              "2": {"class_type": "TestAnnounce", "inputs": {"value": ["1", 0]}},
              "3": {"class_type": "EngineOutput", "inputs": {"value": ["2", 0]}}}
    events = run_job(worker, job("announcing", prompt))
    assert ("message", "test.announce", {"value": 41}, "c") in events
    assert done(events)["success"]
    assert instance.client_id == "c" and instance.last_node_id is None


def test_an_engine_failure_ends_the_job_as_it_does_locally_and_in_main_py_run(worker, monkeypatch, capsys):
    """main.py (its local runner), `main.py run` and the Ray worker share one run path: the executor records an
    exception escaping the engine as the prompt's execution_error, the same everywhere."""

    def broken(self, prompt_id, dynprompt):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(execution.IsChangedCache, "__init__", broken)
    on_worker = done(run_job(worker, job("broken", quick_prompt())))
    assert not on_worker["success"] and on_worker["history_result"] == {"outputs": {}, "meta": {}}
    worker_error = on_worker["messages"][-1]

    queue = PromptQueue()
    local = LocalRunner(queue, PromptExecutor(RecordingSink()))
    queue.put((0, "broken", quick_prompt(), {"client_id": "c"}, ["2"]))
    local.run_one(*queue.get(timeout=0))
    entry = queue.get_history("broken")["broken"]
    local_error = entry["status"]["messages"][-1]
    assert entry["outputs"] == {} and entry["status"]["status_str"] == "error"

    def comparable(message) -> tuple:
        event, data = message
        return event, {key: value for key, value in data.items() if key != "timestamp"}

    assert comparable(worker_error) == comparable(local_error)
    assert worker_error[1]["exception_type"] == "RuntimeError" and worker_error[1]["node_id"] is None

    try:
        assert cli_run.run_here(quick_prompt()) == 1
    finally:  # run_here points this process's stand-in and progress hook at its console
        install_server_stand_in(worker.sink)
        install_progress_hook(worker.sink)
    assert "the executor failed: RuntimeError: engine bug" in capsys.readouterr().err
