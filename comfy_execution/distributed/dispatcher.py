"""The server side of Kiln on Ray, as a runner (comfy_execution/runner.py): takes jobs from the durable queue and
runs each on a worker actor.

The queue and store stay the truth. One dispatch thread matches pending jobs to free workers (`affinity.choose`:
the worker holding the job's models, else the best memory fit) and claims the job; one thread per running job
streams the worker's events back, in order: files are saved here (`transfer.ReceivedFiles`), messages go to the
event sink (the server) exactly as the single-process runner sends them, and the end is recorded with
`task_done`. A worker that dies under a job gives the job back to the queue with its attempt counted, and joins
again once it answers. An interrupt goes to the worker running that prompt, which sets that job's token.

This module is the routing and bookkeeping state machine only: it reaches workers through `WorkerCalls`
(`cluster.RayWorkerCalls` does it with Ray), so it runs and is tested without Ray.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import folder_paths
from comfy_execution import metrics
from comfy_execution.distributed import affinity, transfer
from comfy_execution.prompt_queue import ExecutionStatus, engine_error
from comfy_execution.store import FAILED, PENDING, now_ms

if TYPE_CHECKING:
    from comfy_execution.progress import EventSink
    from comfy_execution.prompt_queue import PromptQueue

REFRESH_SECONDS = 1.0  # how often workers are asked for their state (and new ones looked for)
INFO_TIMEOUT_SECONDS = 30.0  # a worker that does not answer for this long is not given jobs
CLIENT_FEATURES = ("supports_preview_metadata",)
DISPATCH_WINDOW = 64  # how many jobs at the head of the queue the router considers


class WorkerLost(Exception):
    """The worker's process died or does not answer (its actor is restarted); the message names how."""


class WorkerFailed(Exception):
    """The worker's own code raised while running a job (not a node: a node's error is a message)."""


class WorkerCalls(Protocol):
    """How the dispatcher reaches worker actors, whose handles it keeps opaque. Calls that go wrong raise
    `WorkerLost` (the process is gone) or `WorkerFailed` (its code raised)."""

    def discover(self) -> dict[str, Any]:
        """Every worker registered in the cluster, name -> handle."""

    def ask_info(self, handle: Any) -> Any:
        """Ask the worker for its `info()`; a pending answer for `poll_info`."""

    def poll_info(self, pending: Any) -> dict | None:
        """The answer if it has come (None if not yet); raises WorkerLost."""

    def run(self, handle: Any, item: list, inputs: dict[str, bytes], features: dict[str, bool]) -> Iterator[tuple]:
        """The worker's `execute` events, as they come (see worker.py)."""

    def interrupt(self, handle: Any, prompt_id: str) -> None:
        """Ask the worker to stop the job `prompt_id` (without waiting for it)."""

    def free(self, handle: Any, unload_models: bool, free_memory: bool) -> None:
        """ComfyUI's /free on the worker (without waiting for it)."""

    def close(self) -> None:
        """Let go of the cluster."""


@dataclass
class WorkerSlot:
    """What the dispatcher knows of one worker actor."""

    name: str
    handle: Any
    info: dict = field(default_factory=dict)
    alive: bool = False
    prompt_id: str | None = None
    held: frozenset[str] = frozenset()
    loading: frozenset[str] = frozenset()  # the running job's models: held once it ends well
    jobs_completed: int = 0
    jobs_lost: int = 0
    restarts: int = 0
    info_ref: Any = None
    info_asked_at: float = 0.0
    last_seen: float = 0.0

    def describe(self) -> dict[str, Any]:
        info = {key: value for key, value in self.info.items() if key != "model_files"}
        return {**info, "name": self.name, "alive": self.alive, "current_prompt_id": self.prompt_id,
                "held_models": sorted(self.held), "jobs_completed": self.jobs_completed,
                "jobs_lost": self.jobs_lost, "restarts": self.restarts}


class RayDispatcher:
    """Runs the queue's jobs on worker actors (a `Runner`). `sink` gets every job's messages (the server);
    `calls` reaches the workers; `handles` are the workers known from the start (name -> handle). `discover`:
    also adopt workers that `main.py worker` started on other machines (found by name); `max_attempts`: how many
    workers may die under one job before it fails; `affinity_wait`: seconds a job waits for the busy worker that
    holds its models before another takes it."""

    def __init__(self, queue: PromptQueue, sink: EventSink, calls: WorkerCalls, *, handles: dict[str, Any],
                 max_attempts: int, affinity_wait: float, discover: bool):
        self.queue = queue
        self.sink = sink
        self.calls = calls
        self.max_attempts = max_attempts
        self.affinity_wait = affinity_wait
        self.discover = discover
        self.slots: dict[str, WorkerSlot] = {name: WorkerSlot(name, handle) for name, handle in handles.items()}
        self.lock = threading.RLock()
        self.thread: threading.Thread | None = None
        self.stopping = False
        self._needs: dict[str, tuple[tuple[str, ...], int]] = {}  # prompt id -> (model keys, their bytes)
        self._last_refresh = 0.0

    # -- the Runner protocol ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="ray-dispatcher", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        self.queue.notify_change()
        self.calls.close()

    def alive(self) -> bool:
        with self.lock:
            return self.thread is not None and self.thread.is_alive() and any(
                slot.alive for slot in self.slots.values())

    def workers(self) -> list[dict[str, Any]]:
        """Every worker as /system_stats lists it."""
        with self.lock:
            return [slot.describe() for slot in self.slots.values()]

    def render_metrics(self) -> str:
        """Per-worker samples for /metrics."""
        with self.lock:
            slots = list(self.slots.values())

        def samples(value) -> dict:
            return {(("worker", slot.name),): value(slot) for slot in slots}

        reads = samples(lambda slot: sum(slot.info.get("model_file_reads", {}).values()))
        return "".join([
            metrics.render_gauge("kiln_worker_up", "1 while the worker answers.", samples(lambda s: int(s.alive))),
            metrics.render_gauge("kiln_worker_busy", "1 while the worker runs a job.",
                                 samples(lambda s: int(s.prompt_id is not None))),
            metrics.render_labelled_counter("kiln_worker_jobs_total", "Jobs the worker ran to their end.",
                                            samples(lambda s: s.jobs_completed)),
            metrics.render_labelled_counter("kiln_worker_jobs_lost_total",
                                            "Jobs given back to the queue because the worker died under them.",
                                            samples(lambda s: s.jobs_lost)),
            metrics.render_labelled_counter("kiln_worker_restarts_total", "Times the worker's process restarted.",
                                            samples(lambda s: s.restarts)),
            metrics.render_labelled_counter("kiln_worker_model_file_reads_total",
                                            "Model files the worker read from disk.", reads),
        ])

    # -- the dispatch loop ------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self.stopping:
            try:
                self.dispatch_round()
            except Exception:  # never let one bad round stop dispatching
                logging.exception("The Ray dispatcher failed a round; going on")
            self.queue.wait_for_change(REFRESH_SECONDS / 2)

    def dispatch_round(self) -> list[threading.Thread]:
        """One round of the dispatch thread: hear from the workers, apply /free, start every job that can start
        now. The threads of the jobs it started."""
        self._refresh_workers()
        self._apply_flags()
        started: list[threading.Thread] = []
        while self._dispatch_one(started):
            pass
        return started

    def _refresh_workers(self) -> None:
        now = time.monotonic()
        if self.discover and now - self._last_refresh >= REFRESH_SECONDS:
            self._last_refresh = now
            for name, handle in self.calls.discover().items():
                with self.lock:
                    if name not in self.slots:
                        logging.info("Ray worker %s joined", name)
                        self.slots[name] = WorkerSlot(name, handle)
        with self.lock:
            slots = list(self.slots.values())
        for slot in slots:
            if slot.info_ref is None:
                if now - slot.info_asked_at >= REFRESH_SECONDS:
                    slot.info_ref = self.calls.ask_info(slot.handle)
                    slot.info_asked_at = now
                continue
            try:
                info = self.calls.poll_info(slot.info_ref)
            except WorkerLost as ex:
                slot.info_ref = None
                if slot.alive:
                    logging.warning("Ray worker %s is unavailable: %s", slot.name, ex)
                slot.alive = False
                continue
            if info is None:
                if slot.alive and now - slot.last_seen > INFO_TIMEOUT_SECONDS and slot.prompt_id is None:
                    logging.warning("Ray worker %s does not answer: no jobs for it until it does", slot.name)
                    slot.alive = False
                continue
            slot.info_ref = None
            self._update_info(slot, info)

    def _update_info(self, slot: WorkerSlot, info: dict) -> None:
        with self.lock:
            previous = slot.info.get("incarnation")
            if previous is not None and previous != info.get("incarnation"):
                logging.warning("Ray worker %s restarted (pid %s): it holds no models now", slot.name, info.get("pid"))
                slot.restarts += 1
                slot.held = frozenset()
            if not slot.alive:
                logging.info("Ray worker %s is ready (pid %s, %s)", slot.name, info.get("pid"),
                             info.get("device", {}).get("name"))
                self.queue.notify_change()
            slot.info = info
            slot.alive = True
            # The worker's model files validate here too: the server need not hold the models it dispatches.
            folder_paths.set_remote_filenames(slot.name, info.get("model_files") or {})
            slot.last_seen = time.monotonic()

    def _apply_flags(self) -> None:
        flags = self.queue.get_flags()
        free_memory = bool(flags.get("free_memory", False))
        unload = bool(flags.get("unload_models", free_memory))
        if not (unload or free_memory):
            return
        with self.lock:
            for slot in self.slots.values():
                if slot.alive:
                    self.calls.free(slot.handle, unload, free_memory)
                    slot.held = frozenset() if free_memory else slot.held

    def _needs_of(self, job: Any) -> tuple[tuple[str, ...], int]:
        """The model files a pending job needs and their size, worked out once per job."""
        needs = self._needs.get(job.prompt_id)
        if needs is None:
            models = affinity.required_models(job.prompt)
            needs = self._needs[job.prompt_id] = (models, affinity.model_bytes(models, folder_paths.get_full_path))
        return needs

    def _dispatch_one(self, started: list[threading.Thread]) -> bool:
        """Start one job on a free worker (its thread goes into `started`); False when there is nothing to start
        now."""
        if self.queue.draining or self.queue.closed or self.stopping:
            return False
        with self.lock:
            free = [slot for slot in self.slots.values() if slot.alive and slot.prompt_id is None]
            held_by_busy = frozenset().union(*(slot.held | slot.loading for slot in self.slots.values()
                                               if slot.prompt_id))
        if not free:
            return False
        # The head of the queue only: routing looks this far ahead, and a long queue is not re-read per dispatch.
        jobs = self.queue.store.list([PENDING], limit=DISPATCH_WINDOW)
        if not jobs:
            return False
        now = now_ms()
        pending = []
        for job in jobs:
            models, size = self._needs_of(job)
            pending.append(affinity.PendingJob(job.prompt_id, models, (now - job.queued_at) / 1000, size))
        candidates = [affinity.FreeWorker(slot.name, slot.held, int(slot.info.get("free_memory", 0)),
                                          slot.jobs_completed) for slot in free]
        choice = affinity.choose(pending, candidates, held_by_busy, self.affinity_wait)
        if choice is None:
            return False
        job, worker = choice
        # The claim and the slot's new job in one step: an interrupt that comes as soon as the job is taken finds
        # the worker it goes to.
        with self.lock:
            claimed = self.queue.claim(job.prompt_id)
            if claimed is None:
                return True  # cancelled or taken meanwhile: look again
            item, task_id, stored_job = claimed
            slot = self.slots[worker.name]
            slot.prompt_id = job.prompt_id
            slot.loading = frozenset(job.models)
        logging.info("Prompt %s (attempt %d) -> %s", job.prompt_id, stored_job.attempts, slot.name)
        thread = threading.Thread(target=self._run_job, args=(slot, item, task_id, stored_job, job.models),
                                  name=f"ray-job-{job.prompt_id}", daemon=True)
        thread.start()
        started.append(thread)
        return True

    # -- one job --------------------------------------------------------------------------------------------------

    def _run_job(self, slot: WorkerSlot, item: tuple, task_id: int, job: Any, models: tuple[str, ...]) -> None:
        prompt_id = item[1]
        client_id = item[3].get("client_id")
        received = transfer.ReceivedFiles()
        died = False
        try:
            result = self._stream(slot, item, received, client_id)
        except WorkerFailed as ex:
            logging.error("Ray worker %s failed on prompt %s: %s", slot.name, prompt_id, ex)
            result = _failure(prompt_id, f"The worker {slot.name} failed: {ex}")
        except WorkerLost as ex:
            died = True
            self._worker_died(slot, task_id, job, client_id, ex)
        except Exception as ex:  # input files too large, a bad file from the worker, ...
            logging.exception("Prompt %s could not run on %s", prompt_id, slot.name)
            result = _failure(prompt_id, f"{type(ex).__name__}: {ex}")
        try:
            if not died:
                self._finish(slot, task_id, job, client_id, received, result, models)
        finally:
            with self.lock:
                slot.prompt_id = None
                slot.loading = frozenset()
                self._needs.pop(prompt_id, None)
            self.queue.notify_change()

    def _stream(self, slot: WorkerSlot, item: tuple, received: transfer.ReceivedFiles,
                client_id: str | None) -> dict:
        """Run the job on the worker, relaying its events as they come; the worker's result."""
        features = {feature: self.sink.client_supports(client_id, feature) for feature in CLIENT_FEATURES}
        inputs = transfer.input_files(item[2])
        result = None
        for event in self.calls.run(slot.handle, list(item), inputs, features):
            kind = event[0]
            if kind == "file":
                received.save(*event[1:])
            elif kind == "message":
                _, name, data, sid = event
                self._relay(name, received.rewrite(data), sid)
            elif kind == "done":
                result = event[1]
        if result is None:
            raise RuntimeError(f"the worker {slot.name} ended the job without a result")
        return result

    def _relay(self, event: str | int, data: Any, sid: str | None) -> None:
        if event == "executing" and isinstance(data, dict):
            self.sink.client_id = sid
            self.sink.last_node_id = data.get("node")
        self.sink.send_sync(event, data, sid)

    def _finish(self, slot: WorkerSlot, task_id: int, job: Any, client_id: str | None,
                received: transfer.ReceivedFiles, result: dict, models: tuple[str, ...]) -> None:
        success = bool(result["success"])
        status = ExecutionStatus("success" if success else "error", success,
                                 received.rewrite([list(message) for message in result["messages"]]))
        state = self.queue.task_done(task_id, received.rewrite(result["history_result"]), status,
                                     status_extra={"attempt": job.attempts, "worker": slot.name})
        with self.lock:
            slot.jobs_completed += 1
            slot.held = frozenset(models) if success else frozenset()
        if state is not None and client_id is not None:
            self.sink.send_sync("executing", {"node": None, "prompt_id": job.prompt_id}, client_id)

    def _worker_died(self, slot: WorkerSlot, task_id: int, job: Any, client_id: str | None, ex: Exception) -> None:
        reason = (f"The worker {slot.name} stopped while running this prompt ({ex}), on attempt "
                  f"{job.attempts} of {self.max_attempts}.")
        with self.lock:
            slot.jobs_lost += 1
            slot.held = frozenset()
            slot.alive = False  # until it answers again (Ray restarts it)
            slot.info_ref = None
        state = self.queue.put_back(task_id, max_attempts=self.max_attempts, reason=reason + " Not retried again.")
        if state == PENDING:
            logging.warning("%s Queued again.", reason)
            return
        logging.error("%s Not retried again.", reason)
        if state == FAILED and client_id is not None:
            history = self.queue.get_history(prompt_id=job.prompt_id).get(job.prompt_id, {})
            for event, data in (history.get("status") or {}).get("messages", []):
                self.sink.send_sync(event, data, client_id)
            self.sink.send_sync("executing", {"node": None, "prompt_id": job.prompt_id}, client_id)

    # -- interrupts -------------------------------------------------------------------------------------------

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Stop the running job `prompt_id` (every running job when None) on its worker, at the next step. The
        worker stops that prompt only: by then its slot may run another, which the interrupt does not touch."""
        with self.lock:
            targets = [(slot.handle, slot.prompt_id) for slot in self.slots.values()
                       if slot.prompt_id is not None and prompt_id in (None, slot.prompt_id)]
        for handle, running in targets:
            self.calls.interrupt(handle, running)


def _failure(prompt_id: str, message: str) -> dict:
    return {"success": False, "messages": [("execution_error", engine_error(prompt_id, message, "WorkerError"))],
            "history_result": {"outputs": {}, "meta": {}}}
