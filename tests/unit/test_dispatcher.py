"""The Ray dispatcher's routing and bookkeeping, without Ray: fake worker handles behind `WorkerCalls`, a real
queue. Jobs go to free workers by affinity, events reach the sink in order, a lost worker gives its job back (then
fails it past `max_attempts`), a failing worker fails the job, and an interrupt reaches the worker running that
prompt and no other, also when it comes the moment the job is claimed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from comfy_execution.distributed import dispatcher as dispatcher_module
from comfy_execution.distributed.dispatcher import RayDispatcher, WorkerFailed, WorkerLost
from comfy_execution.prompt_queue import PromptQueue
from comfy_execution.store import CANCELLED, COMPLETED, FAILED, PENDING
from tests.unit.test_executor import RecordingSink

WAIT_SECONDS = 10.0


class FakeWorker:
    """A worker actor's handle: its `info()`, and what its next job does (`outcome`: ok, hold, lost, failed)."""

    def __init__(self, name: str):
        self.name = name
        self.incarnation = 1
        self.outcome = "ok"
        self.unreachable = False
        self.ran: list[str] = []
        self.interrupts: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def info(self) -> dict:
        if self.unreachable:
            raise WorkerLost("ActorUnavailableError")
        return {"name": self.name, "incarnation": str(self.incarnation), "pid": 100 + self.incarnation,
                "device": {"name": "fake", "type": "cpu"}, "free_memory": 1 << 30, "model_files": {},
                "model_file_reads": {}}

    def execute(self, item: list) -> Iterator[tuple]:
        prompt_id, sid = item[1], item[3].get("client_id")
        self.ran.append(prompt_id)
        start = ["execution_start", {"prompt_id": prompt_id}]
        yield ("message", *start, sid)
        if self.outcome == "lost":
            raise WorkerLost("ActorDiedError")
        if self.outcome == "failed":
            raise WorkerFailed("boom")
        if self.outcome == "hold":
            self.entered.set()
            while not self.release.wait(0.005):
                if prompt_id in self.interrupts:
                    end = ["execution_interrupted", {"prompt_id": prompt_id, "node_id": "1"}]
                    yield ("message", *end, sid)
                    yield ("done", {"success": False, "messages": [start, end],
                                    "history_result": {"outputs": {}, "meta": {}}})
                    return
        yield ("message", "executing", {"node": "1", "prompt_id": prompt_id}, sid)
        yield ("message", "executed", {"node": "1", "output": {"worker": [self.name]}, "prompt_id": prompt_id}, sid)
        end = ["execution_success", {"prompt_id": prompt_id}]
        yield ("message", *end, sid)
        yield ("done", {"success": True, "messages": [start, end],
                        "history_result": {"outputs": {"1": {"worker": [self.name]}}, "meta": {}}})


class FakeCalls:
    """`WorkerCalls` over FakeWorker handles: every call answers at once."""

    def __init__(self) -> None:
        self.interrupted: list[tuple[str, str]] = []
        self.freed: list[tuple[str, bool, bool]] = []
        self.closed = False

    def discover(self) -> dict:
        return {}

    def ask_info(self, handle: FakeWorker) -> FakeWorker:
        return handle

    def poll_info(self, pending: FakeWorker) -> dict | None:
        return pending.info()

    def run(self, handle: FakeWorker, item: list, inputs: dict, features: dict) -> Iterator[tuple]:
        yield from handle.execute(item)

    def interrupt(self, handle: FakeWorker, prompt_id: str) -> None:
        self.interrupted.append((handle.name, prompt_id))
        handle.interrupts.append(prompt_id)

    def free(self, handle: FakeWorker, unload_models: bool, free_memory: bool) -> None:
        self.freed.append((handle.name, unload_models, free_memory))

    def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch):
    monkeypatch.setattr(dispatcher_module, "REFRESH_SECONDS", 0.02)


class Cluster:
    def __init__(self, *names: str, max_attempts: int = 2):
        self.workers = {name: FakeWorker(name) for name in names}
        self.queue = PromptQueue()
        self.sink = RecordingSink()
        self.calls = FakeCalls()
        self.dispatcher = RayDispatcher(self.queue, self.sink, self.calls, handles=dict(self.workers),
                                        max_attempts=max_attempts, affinity_wait=30.0, discover=False)
        self.queue.runner = self.dispatcher

    def hear_from_workers(self) -> None:
        """Rounds until every reachable worker has answered once (a job those rounds start runs to its end)."""
        for _ in range(50):
            for thread in self.dispatcher.dispatch_round():
                thread.join(WAIT_SECONDS)
            if all(slot.alive for name, slot in self.dispatcher.slots.items()
                   if not self.workers[name].unreachable):
                return
            time.sleep(0.03)
        raise AssertionError("the workers never answered")

    def put(self, prompt_id: str, checkpoint: str | None = None, number: int = 0) -> None:
        node = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}} if checkpoint else \
            {"class_type": "KilnTestInt", "inputs": {"value": 1}}
        self.queue.put((number, prompt_id, {"1": node}, {"client_id": f"client-{prompt_id}"}, ["1"]))

    def dispatch(self) -> list[threading.Thread]:
        return self.dispatcher.dispatch_round()

    def run_all(self) -> None:
        for thread in self.dispatch():
            thread.join(WAIT_SECONDS)

    def history(self, prompt_id: str) -> dict:
        return self.queue.get_history(prompt_id)[prompt_id]

    def state(self, prompt_id: str) -> str:
        return self.queue.store.get(prompt_id).state

    def sent_to(self, prompt_id: str) -> list[str]:
        return [event for event, data, sid in self.sink.sent if sid == f"client-{prompt_id}"]


def test_jobs_stay_on_the_worker_that_holds_their_checkpoint_and_the_books_add_up():
    cluster = Cluster("w0", "w1")
    assert not cluster.dispatcher.alive(), "not started"
    cluster.hear_from_workers()
    cluster.put("a1", "a.safetensors", 0)
    cluster.put("b1", "b.safetensors", 1)
    cluster.run_all()
    home = {checkpoint: cluster.history(f"{checkpoint}1")["status"]["worker"] for checkpoint in "ab"}
    assert home["a"] != home["b"]
    for index in (2, 3):
        cluster.put(f"a{index}", "a.safetensors", index * 2)
        cluster.put(f"b{index}", "b.safetensors", index * 2 + 1)
        cluster.run_all()
    for checkpoint in "ab":
        for index in (1, 2, 3):
            entry = cluster.history(f"{checkpoint}{index}")
            assert entry["status"]["status_str"] == "success" and entry["status"]["attempt"] == 1
            assert entry["status"]["worker"] == home[checkpoint], "a job goes where its checkpoint is held"
            assert entry["outputs"] == {"1": {"worker": [home[checkpoint]]}}
    # Every client got its prompt's messages in order, then the end of the prompt.
    assert cluster.sent_to("a2") == ["execution_start", "executing", "executed", "execution_success", "executing"]
    assert cluster.sink.sent[-1][1] == {"node": None, "prompt_id": "b3"}
    described = {worker["name"]: worker for worker in cluster.dispatcher.workers()}
    assert described[home["a"]]["held_models"] == ["checkpoints/a.safetensors"]
    assert all(worker["jobs_completed"] == 3 and worker["current_prompt_id"] is None and worker["alive"]
               for worker in described.values())
    assert "model_files" not in described["w0"]
    metrics = cluster.dispatcher.render_metrics()
    assert 'kiln_worker_jobs_total{worker="w0"} 3' in metrics and 'kiln_worker_busy{worker="w1"} 0' in metrics


def test_a_lost_worker_gives_its_job_back_and_joins_again_after_its_restart():
    cluster = Cluster("w0")
    worker = cluster.workers["w0"]
    cluster.hear_from_workers()
    worker.outcome = "lost"
    cluster.put("job")
    cluster.run_all()
    assert cluster.state("job") == PENDING and cluster.queue.store.get("job").attempts == 1
    slot = cluster.dispatcher.slots["w0"]
    assert not slot.alive and slot.jobs_lost == 1 and slot.prompt_id is None
    assert cluster.dispatch() == [], "no job for a worker that has not answered again"
    worker.outcome, worker.incarnation = "ok", 2  # Ray restarted its process
    cluster.hear_from_workers()
    assert slot.restarts == 1 and slot.held == frozenset()
    cluster.run_all()
    entry = cluster.history("job")
    assert entry["status"]["status_str"] == "success" and entry["status"]["attempt"] == 2
    assert cluster.sent_to("job").count("execution_start") == 2, "the run began again on the restarted worker"


def test_a_job_whose_workers_keep_dying_fails_after_max_attempts():
    cluster = Cluster("w0", max_attempts=2)
    worker = cluster.workers["w0"]
    cluster.hear_from_workers()
    worker.outcome = "lost"
    cluster.put("doomed")
    cluster.run_all()
    assert cluster.state("doomed") == PENDING
    worker.incarnation = 2
    cluster.hear_from_workers()
    cluster.run_all()
    assert cluster.state("doomed") == FAILED
    event, error = cluster.history("doomed")["status"]["messages"][-1]
    assert event == "execution_error" and error["exception_type"] == "WorkerDied"
    assert "stopped while running this prompt (ActorDiedError), on attempt 2 of 2" in error["exception_message"]
    assert cluster.sent_to("doomed")[-2:] == ["execution_error", "executing"]


def test_a_worker_whose_code_raises_fails_the_job_and_stays_in_service():
    cluster = Cluster("w0")
    cluster.hear_from_workers()
    cluster.workers["w0"].outcome = "failed"
    cluster.put("bad")
    cluster.run_all()
    event, error = cluster.history("bad")["status"]["messages"][-1]
    assert cluster.state("bad") == FAILED and event == "execution_error"
    assert error["exception_message"] == "The worker w0 failed: boom" and error["exception_type"] == "WorkerError"
    assert cluster.dispatcher.slots["w0"].alive


def test_an_unreachable_worker_gets_no_jobs():
    cluster = Cluster("w0", "w1")
    cluster.workers["w1"].unreachable = True
    cluster.hear_from_workers()
    cluster.put("one", number=0)
    cluster.put("two", number=1)
    cluster.run_all()
    cluster.run_all()
    assert [cluster.history(prompt_id)["status"]["worker"] for prompt_id in ("one", "two")] == ["w0", "w0"]
    assert not cluster.dispatcher.slots["w1"].alive


def test_an_interrupt_reaches_the_worker_running_that_prompt_and_no_other():
    cluster = Cluster("w0", "w1")
    cluster.hear_from_workers()
    for worker in cluster.workers.values():
        worker.outcome = "hold"
    cluster.put("A", "a.safetensors", 0)
    cluster.put("B", "b.safetensors", 1)
    cluster.put("C", "c.safetensors", 2)  # pending: both workers are busy
    threads = {thread.name.removeprefix("ray-job-"): thread for thread in cluster.dispatch()}
    assert sorted(threads) == ["A", "B"]
    assert all(worker.entered.wait(WAIT_SECONDS) for worker in cluster.workers.values())
    runs_on = {prompt_id: name for name, worker in cluster.workers.items() for prompt_id in worker.ran}
    cluster.queue.interrupt("C")
    assert cluster.calls.interrupted == [], "a pending prompt is not interrupted"
    cluster.queue.interrupt("A")
    assert cluster.calls.interrupted == [(runs_on["A"], "A")]
    threads["A"].join(WAIT_SECONDS)
    assert cluster.state("A") == CANCELLED
    assert threads["B"].is_alive() and "B" not in cluster.workers[runs_on["B"]].interrupts
    cluster.workers[runs_on["B"]].release.set()
    threads["B"].join(WAIT_SECONDS)
    assert cluster.state("B") == COMPLETED
    for worker in cluster.workers.values():
        worker.outcome = "ok"
        worker.release.set()
    cluster.run_all()
    assert cluster.state("C") == COMPLETED


def test_interrupting_every_prompt_reaches_every_busy_worker_with_its_own_prompt():
    cluster = Cluster("w0", "w1", "w2")
    cluster.hear_from_workers()
    for worker in cluster.workers.values():
        worker.outcome = "hold"
    cluster.put("A", "a.safetensors", 0)
    cluster.put("B", "b.safetensors", 1)
    threads = cluster.dispatch()
    assert len(threads) == 2
    cluster.queue.interrupt()
    assert sorted(prompt_id for _, prompt_id in cluster.calls.interrupted) == ["A", "B"]
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert cluster.state("A") == CANCELLED and cluster.state("B") == CANCELLED


def test_an_interrupt_the_moment_a_job_is_claimed_finds_its_worker():
    cluster = Cluster("w0")
    cluster.hear_from_workers()
    worker = cluster.workers["w0"]
    worker.outcome = "hold"
    cluster.put("raced")
    claim = cluster.queue.claim
    interrupter: list[threading.Thread] = []

    def claim_then_interrupt(prompt_id):
        claimed = claim(prompt_id)
        # The route sees the job running now; its interrupt must not miss the worker the job is going to.
        interrupter.append(threading.Thread(target=cluster.queue.interrupt, args=(prompt_id,)))
        interrupter[0].start()
        interrupter[0].join(0.1)
        return claimed

    cluster.queue.claim = claim_then_interrupt
    threads = cluster.dispatch()
    interrupter[0].join(WAIT_SECONDS)
    assert cluster.calls.interrupted == [("w0", "raced")]
    threads[0].join(WAIT_SECONDS)
    assert cluster.state("raced") == CANCELLED


def test_free_flags_go_to_every_live_worker_and_the_runner_starts_and_stops():
    cluster = Cluster("w0", "w1")
    cluster.hear_from_workers()
    cluster.queue.set_flag("free_memory", True)
    cluster.dispatch()
    assert sorted(cluster.calls.freed) == [("w0", True, True), ("w1", True, True)]
    assert all(slot.held == frozenset() for slot in cluster.dispatcher.slots.values())
    cluster.dispatcher.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not cluster.queue.worker_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cluster.queue.worker_alive()
    cluster.put("via-thread")
    finished = threading.Event()
    assert cluster.queue.on_job_finished("via-thread", finished.set)
    assert finished.wait(WAIT_SECONDS) and cluster.state("via-thread") == COMPLETED
    cluster.dispatcher.stop()
    cluster.dispatcher.thread.join(WAIT_SECONDS)
    assert cluster.calls.closed and not cluster.dispatcher.alive()
