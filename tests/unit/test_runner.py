"""The local runner and per-run cancellation: each run has its own token, an interrupt reaches only the run it
aims at (also one taken from the queue and not started yet), and ComfyUI's interrupt functions act on the run
that calls them. Real `PromptExecutor`s and queues, engine test nodes, no server."""

from __future__ import annotations

import threading
import time

import pytest

import comfy.model_management
import execution
import nodes
from comfy_execution.prompt_queue import PromptQueue
from comfy_execution.runner import CancellationToken, LocalRunner, RunTokens
from comfy_execution.store import CANCELLED, COMPLETED, FAILED, PENDING
from execution import PromptExecutor
from tests.unit.test_executor import RecordingSink

WAIT_SECONDS = 10.0
# Gate nodes wait for their gate to open, checking for interrupts as a sampler does at each step.
GATES: dict[str, threading.Event] = {}
ENTERED: dict[str, threading.Event] = {}


class Gate:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {}), "gate": ("STRING", {})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value, gate):
        ENTERED[gate].set()
        while not GATES[gate].wait(0.005):
            comfy.model_management.throw_exception_if_processing_interrupted()
        return (value,)


class InterruptSelf:
    """Calls ComfyUI's interrupt function, from the node itself or from a thread it starts (no run context)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {}), "from_thread": ("BOOLEAN", {"default": False})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value, from_thread):
        if from_thread:
            thread = threading.Thread(target=comfy.model_management.interrupt_current_processing)
            thread.start()
            thread.join()
        else:
            comfy.model_management.interrupt_current_processing()
        assert comfy.model_management.processing_interrupted()
        return (value,)


@pytest.fixture
def gates(engine_nodes_registered, monkeypatch):
    monkeypatch.setitem(nodes.NODE_CLASS_MAPPINGS, "TestGate", Gate)
    monkeypatch.setitem(nodes.NODE_CLASS_MAPPINGS, "TestInterruptSelf", InterruptSelf)
    GATES.clear()
    ENTERED.clear()
    yield GATES
    for gate in GATES.values():
        gate.set()


def gate(name: str) -> threading.Event:
    GATES[name] = threading.Event()
    ENTERED[name] = threading.Event()
    return GATES[name]


_values = iter(range(1000, 10**6))


def gated_prompt(gate_name: str) -> dict:
    """A constant, a Gate node, an output: values never seen before, so no cache entry answers for it."""
    return {"1": {"class_type": "EngineInt", "inputs": {"value": next(_values)}},
            "2": {"class_type": "TestGate", "inputs": {"value": ["1", 0], "gate": gate_name}},
            "3": {"class_type": "EngineOutput", "inputs": {"value": ["2", 0]}}}


def quick_prompt() -> dict:
    return {"1": {"class_type": "EngineInt", "inputs": {"value": next(_values)}},
            "2": {"class_type": "EngineOutput", "inputs": {"value": ["1", 0]}}}


def queue_item(queue: PromptQueue, prompt_id: str, prompt: dict, number: int = 0) -> None:
    queue.put((number, prompt_id, prompt, {"client_id": "c"}, [max(prompt, key=int)]))


def wait_finished(queue: PromptQueue, *prompt_ids: str) -> None:
    for prompt_id in prompt_ids:
        finished = threading.Event()
        if queue.on_job_finished(prompt_id, finished.set):
            assert finished.wait(WAIT_SECONDS), f"{prompt_id} did not finish"


def state(queue: PromptQueue, prompt_id: str) -> str:
    return queue.store.get(prompt_id).state


def last_message(queue: PromptQueue, prompt_id: str) -> tuple[str, dict]:
    event, data = queue.get_history(prompt_id)[prompt_id]["status"]["messages"][-1]
    return event, data


@pytest.fixture
def runner(gates):
    """A started local runner on an in-memory queue; stopped (and its thread gone) afterwards."""
    queue = PromptQueue()
    local = LocalRunner(queue, PromptExecutor(RecordingSink()))
    queue.runner = local
    local.start()
    yield local
    for event in GATES.values():
        event.set()
    queue.wait_until_idle(WAIT_SECONDS)
    local.stop()
    deadline = time.monotonic() + WAIT_SECONDS
    while local.alive() and time.monotonic() < deadline:
        time.sleep(0.01)


# ---- the tokens ---------------------------------------------------------------------------------------------------

def test_run_tokens_reach_only_the_run_named_and_keep_an_interrupt_for_a_run_not_open_yet():
    tokens = RunTokens()
    a, b = tokens.open("a"), tokens.open("b")
    assert tokens.cancel("a") == ["a"]
    assert a.cancelled and not b.cancelled
    assert tokens.cancel("c") == [] and not b.cancelled, "a prompt this runner does not hold is left alone"
    # "c" was taken from the queue but its run is not open yet: it opens cancelled.
    assert tokens.cancel(None, taken=["b", "c"]) == ["a", "b", "c"]
    assert b.cancelled and tokens.open("c").cancelled
    assert not tokens.open("d").cancelled, "the kept interrupt was for c only"
    tokens.close("a")
    assert sorted(tokens.running()) == ["b", "c", "d"]


def test_kept_interrupts_are_bounded():
    tokens = RunTokens()
    tokens.cancel(None, taken=[f"p{index}" for index in range(RunTokens.EARLY_LIMIT + 10)])
    assert not tokens.open("p0").cancelled, "the oldest kept interrupts are dropped past the limit"
    assert tokens.open(f"p{RunTokens.EARLY_LIMIT + 9}").cancelled


def test_a_token_request_is_consumed_by_the_check_that_sees_it():
    token = CancellationToken()
    token.raise_if_cancelled()
    token.cancel()
    with pytest.raises(comfy.model_management.InterruptProcessingException):
        token.raise_if_cancelled()
    assert not token.cancelled
    token.raise_if_cancelled()


# ---- the local runner -------------------------------------------------------------------------------------------

def test_the_runner_runs_the_queue_in_order_and_ends_each_prompt_with_executing_null(runner):
    queue = runner.queue
    for index in range(3):
        queue_item(queue, f"q{index}", quick_prompt(), number=index)
    wait_finished(queue, "q0", "q1", "q2")
    assert [state(queue, f"q{index}") for index in range(3)] == [COMPLETED] * 3
    sink = runner.executor.server
    ends = [data["prompt_id"] for event, data in sink.events("executing") if data["node"] is None]
    assert ends == ["q0", "q1", "q2"]
    assert runner.alive() and queue.worker_alive() and runner.workers() is None and runner.render_metrics() == ""


def test_an_interrupt_aimed_at_one_prompt_never_stops_another(runner):
    queue = runner.queue
    release_a, release_b = gate("a"), gate("b")
    queue_item(queue, "A", gated_prompt("a"), number=0)
    queue_item(queue, "B", gated_prompt("b"), number=1)
    assert ENTERED["a"].wait(WAIT_SECONDS)
    queue.interrupt("B")  # B is pending: the running A goes on
    time.sleep(0.05)
    release_a.set()
    wait_finished(queue, "A")
    assert state(queue, "A") == COMPLETED
    assert ENTERED["b"].wait(WAIT_SECONDS)
    queue.interrupt("A")  # A has finished: the running B goes on
    time.sleep(0.05)
    release_b.set()
    wait_finished(queue, "B")
    assert state(queue, "B") == COMPLETED


def test_an_interrupt_for_the_running_prompt_stops_it_and_not_the_next(runner):
    queue = runner.queue
    gate("a")
    queue_item(queue, "A", gated_prompt("a"), number=0)
    queue_item(queue, "B", quick_prompt(), number=1)
    assert ENTERED["a"].wait(WAIT_SECONDS)
    queue.interrupt("A")
    wait_finished(queue, "A", "B")
    assert state(queue, "A") == CANCELLED and last_message(queue, "A")[0] == "execution_interrupted"
    assert state(queue, "B") == COMPLETED


@pytest.mark.parametrize("aimed", [True, False], ids=["by-prompt-id", "without-prompt-id"])
def test_an_interrupt_between_the_claim_and_the_run_still_stops_it(gates, aimed):
    queue = PromptQueue()
    local = LocalRunner(queue, PromptExecutor(RecordingSink()))
    queue.runner = local  # not started: the test takes the item itself, as the runner's loop does
    queue_item(queue, "early", quick_prompt())
    item, task_id = queue.get(timeout=0)
    queue.interrupt("early" if aimed else None)  # taken from the queue, its run not open yet
    assert local.run_one(item, task_id) == CANCELLED
    event, data = last_message(queue, "early")
    assert event == "execution_interrupted" and data["node_id"] == "1"


def test_an_interrupt_after_the_run_opened_but_before_it_started_still_stops_it(runner, monkeypatch):
    queue = runner.queue
    held, release = threading.Event(), threading.Event()
    original = PromptExecutor.execute

    def slow_to_start(self, *arguments, **keywords):
        held.set()
        assert release.wait(WAIT_SECONDS)
        return original(self, *arguments, **keywords)

    monkeypatch.setattr(PromptExecutor, "execute", slow_to_start)
    queue_item(queue, "late-start", quick_prompt())
    assert held.wait(WAIT_SECONDS)
    queue.interrupt("late-start")
    release.set()
    wait_finished(queue, "late-start")
    assert state(queue, "late-start") == CANCELLED


def test_an_engine_failure_is_that_prompts_execution_error_and_the_runner_goes_on(runner, monkeypatch):
    queue = runner.queue
    original = execution.IsChangedCache.__init__

    def broken_for_one_prompt(self, prompt_id, dynprompt):
        if prompt_id == "broken":
            raise RuntimeError("engine bug")
        original(self, prompt_id, dynprompt)

    monkeypatch.setattr(execution.IsChangedCache, "__init__", broken_for_one_prompt)
    queue_item(queue, "broken", quick_prompt(), number=0)
    queue_item(queue, "fine", quick_prompt(), number=1)
    wait_finished(queue, "broken", "fine")
    assert state(queue, "broken") == FAILED and state(queue, "fine") == COMPLETED
    event, error = last_message(queue, "broken")
    assert event == "execution_error"
    assert {key: error[key] for key in ("prompt_id", "node_id", "exception_type", "exception_message")} == {
        "prompt_id": "broken", "node_id": None, "exception_type": "RuntimeError", "exception_message": "engine bug"}
    assert queue.get_history("broken")["broken"]["outputs"] == {}
    executor = runner.executor
    assert executor.success and executor.history_result["outputs"], "ComfyUI's names describe the last run"


def test_a_shutdown_interrupts_once_and_puts_the_running_prompt_back(runner):
    queue = runner.queue
    gate("a")
    queue_item(queue, "A", gated_prompt("a"))
    assert ENTERED["a"].wait(WAIT_SECONDS)
    assert queue.begin_shutdown() == ["A"]
    runner.interrupt()
    assert queue.wait_until_idle(WAIT_SECONDS)
    assert state(queue, "A") == PENDING and queue.get_history("A") == {}


# ---- ComfyUI's interrupt functions -----------------------------------------------------------------------------

def run_in_thread(executor: PromptExecutor, prompt_id: str, prompt: dict, token: CancellationToken) -> dict:
    outcome: dict = {}

    def target() -> None:
        outcome["result"] = executor.execute(prompt, prompt_id, {"client_id": "c"}, [max(prompt, key=int)],
                                             cancel=token)

    outcome["thread"] = threading.Thread(target=target)
    outcome["thread"].start()
    return outcome


@pytest.mark.parametrize("from_thread", [False, True], ids=["from-the-node", "from-a-thread-it-started"])
def test_a_node_interrupting_its_own_run_stops_that_run_only(gates, from_thread):
    release = gate("x")
    other_token = CancellationToken()
    other = run_in_thread(PromptExecutor(RecordingSink()), "x", gated_prompt("x"), other_token)
    assert ENTERED["x"].wait(WAIT_SECONDS)
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": next(_values)}},
              "2": {"class_type": "TestInterruptSelf", "inputs": {"value": ["1", 0], "from_thread": from_thread}},
              "3": {"class_type": "EngineOutput", "inputs": {"value": ["2", 0]}}}
    own_token = CancellationToken()
    result = PromptExecutor(RecordingSink()).execute(prompt, "self", {"client_id": "c"}, ["3"], cancel=own_token)
    assert not result.success and result.status_messages[-1][0] == "execution_interrupted"
    assert result.status_messages[-1][1]["node_id"] == "3"
    assert not other_token.cancelled
    release.set()
    other["thread"].join(WAIT_SECONDS)
    assert other["result"].success


def test_outside_any_run_the_interrupt_functions_use_their_own_flag(gates):
    release = gate("y")
    token = CancellationToken()
    running = run_in_thread(PromptExecutor(RecordingSink()), "y", gated_prompt("y"), token)
    assert ENTERED["y"].wait(WAIT_SECONDS)
    # This thread has no run of its own: ComfyUI's functions act on the run in progress (ComfyUI's behaviour).
    assert not comfy.model_management.processing_interrupted()
    nodes.interrupt_processing()
    assert token.cancelled
    running["thread"].join(WAIT_SECONDS)
    assert running["result"].status_messages[-1][0] == "execution_interrupted"
    release.set()
    # With no run in progress they act on a flag of their own, which no later run sees.
    nodes.interrupt_processing()
    try:
        assert comfy.model_management.processing_interrupted()
        result = PromptExecutor(RecordingSink()).execute(quick_prompt(), "later", {}, ["2"])
        assert result.success
    finally:
        nodes.interrupt_processing(False)
    assert not comfy.model_management.processing_interrupted()


def test_the_queue_tells_its_listeners_and_knows_no_server():
    queue = PromptQueue()
    changes = []
    queue.add_change_listener(lambda: changes.append(queue.get_tasks_remaining()))
    queue_item(queue, "a", quick_prompt())
    _, task_id = queue.get(timeout=0)
    assert queue.taken_prompt_ids() == ["a"]
    queue.task_done(task_id, {"outputs": {}, "meta": {}}, None)
    assert changes == [1, 1, 0] and queue.server is None and queue.taken_prompt_ids() == []
