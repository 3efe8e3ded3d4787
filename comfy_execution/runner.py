"""Who runs prompts: the `Runner` protocol that the queue and the routes call, how one run ends (`PromptResult`),
the cancellation tokens a runner keeps (`RunTokens`), and `LocalRunner`, this process's worker thread.

Every run gets its own `CancellationToken` (comfy.model_management): `/interrupt` and job cancel reach it through
`Runner.interrupt`, so an interrupt aimed at one prompt never stops another, and one that arrives after the prompt
was taken from the queue but before its run starts stops it as soon as it starts. The other runner is
`RayDispatcher` (comfy_execution/distributed/dispatcher.py), which runs prompts on Ray worker actors.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from comfy.model_management import CancellationToken
from comfy_execution.prompt_queue import ExecutionStatus
from comfy_execution.store import StoreWriteError

if TYPE_CHECKING:
    from comfy_execution.prompt_queue import PromptQueue
    from execution import PromptExecutor

__all__ = ["CancellationToken", "LocalRunner", "PromptResult", "RunTokens", "Runner"]

# How long the worker thread waits for a prompt before it looks at the /free flags again (a flag wakes it sooner).
POLL_SECONDS = 1000.0
# Garbage is collected after a prompt at most this often.
GC_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True)
class PromptResult:
    """How one run of a prompt ended: `success`; `status_messages`, the `(event, data)` pairs its history entry's
    status lists (execution_start ... execution_success, or the execution_error / execution_interrupted that ended
    it); `history_result`, `{"outputs": {node id: ui output}, "meta": {node id: {...}}}`."""

    success: bool
    status_messages: list
    history_result: dict

    def status(self) -> ExecutionStatus:
        """The status of its history entry."""
        return ExecutionStatus("success" if self.success else "error", self.success, self.status_messages)


class Runner(Protocol):
    """Whatever runs the queue's prompts. The queue takes one (`PromptQueue.runner`); the routes reach it through
    the queue (`interrupt`, `worker_alive`) or read it (`workers`, `render_metrics`)."""

    def start(self) -> None:
        """Begin taking prompts from the queue."""

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Stop the run of `prompt_id` (every run when None) at its next step or node, also one that was taken from
        the queue and has not started yet. Never touches another prompt's run."""

    def alive(self) -> bool:
        """Whether prompts can run (the worker thread lives, or at least one worker answers)."""

    def workers(self) -> list[dict[str, Any]] | None:
        """Each worker as /system_stats lists it; None when prompts run in this process."""

    def render_metrics(self) -> str:
        """Per-worker samples for /metrics (Prometheus text), "" if there are none."""

    def stop(self) -> None:
        """Take no more prompts and let go of what the runner holds (threads, a cluster connection)."""


class RunTokens:
    """The cancellation tokens of the runs one runner holds, by prompt id (thread-safe).

    A prompt can be interrupted between the moment it is taken from the queue and the moment its run opens here:
    `cancel` names such prompts in `taken`, and their interrupt waits (for at most EARLY_LIMIT prompts) until
    `open` gives the run its token, already cancelled.
    """

    EARLY_LIMIT = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, CancellationToken] = {}
        self._early: dict[str, None] = {}  # insertion-ordered: the oldest are dropped past EARLY_LIMIT

    def open(self, prompt_id: str) -> CancellationToken:
        """The token of the run of `prompt_id` that starts now."""
        token = CancellationToken()
        with self._lock:
            if prompt_id in self._early:
                del self._early[prompt_id]
                token.cancel()
            self._open[prompt_id] = token
        return token

    def close(self, prompt_id: str) -> None:
        """The run of `prompt_id` has ended."""
        with self._lock:
            self._open.pop(prompt_id, None)

    def cancel(self, prompt_id: str | None = None, taken: Iterable[str] = ()) -> list[str]:
        """Cancel the open run of `prompt_id` (every open run when None), and mark the prompts of `taken` that it
        names (all of them when None) and whose run is not open yet: they start cancelled. The ids it reached."""
        with self._lock:
            reached = [open_id for open_id in self._open if prompt_id in (None, open_id)]
            for open_id in reached:
                self._open[open_id].cancel()
            for taken_id in taken:
                if taken_id not in self._open and prompt_id in (None, taken_id):
                    self._early[taken_id] = None
                    reached.append(taken_id)
            while len(self._early) > self.EARLY_LIMIT:
                del self._early[next(iter(self._early))]
        return reached

    def running(self) -> list[str]:
        """The prompt ids of the open runs."""
        with self._lock:
            return list(self._open)


class LocalRunner:
    """Runs the queue's prompts one at a time on a thread of this process, with one `PromptExecutor` that keeps its
    caches between prompts (ComfyUI's prompt worker). Applies the /free flags between prompts; never lets one
    prompt stop the loop. The executor's event sink is where the end of each prompt (`executing` null) goes."""

    def __init__(self, queue: PromptQueue, executor: PromptExecutor):
        self.queue = queue
        self.executor = executor
        self.tokens = RunTokens()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._store_waiting = False  # a full disk was logged; log again once it takes writes
        self._last_gc = 0.0
        self._need_gc = False

    # -- the Runner protocol ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="prompt-worker")
        self._thread.start()

    def interrupt(self, prompt_id: str | None = None) -> None:
        # The prompts taken from the queue: one of them may be between its claim and its run.
        self.tokens.cancel(prompt_id, taken=self.queue.taken_prompt_ids())

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def workers(self) -> list[dict[str, Any]] | None:
        return None

    def render_metrics(self) -> str:
        return ""

    def stop(self) -> None:
        self._stopping = True
        self.queue.notify_change()

    # -- the loop ---------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping:
            try:
                taken = self.queue.get(timeout=POLL_SECONDS)
            except StoreWriteError as error:  # a full disk: nothing can start until it has space again
                self._wait_for_store(error)
                continue
            if taken is not None:
                self.run_one(*taken)
            self._housekeeping()

    def _wait_for_store(self, error: StoreWriteError) -> None:
        if not self._store_waiting:
            logging.error("%s Waiting for space before the next step.", error)
            self._store_waiting = True
        time.sleep(POLL_SECONDS)

    def _record_end(self, task_id: int, prompt_id: str, result: PromptResult) -> str | None:
        """task_done, tried again while the store's disk is full, until it has space (or the server stops: the
        job then stays marked running, and the next start runs it again)."""
        while True:
            try:
                state = self.queue.task_done(task_id, result.history_result, status=result.status())
                if self._store_waiting:
                    logging.info("The job store takes writes again.")
                    self._store_waiting = False
                return state
            except StoreWriteError as error:
                if self._stopping:
                    return None
                self._wait_for_store(error)
            except Exception:  # keep serving; the job stays marked running
                logging.exception("Could not record the end of prompt %s", prompt_id)
                return None

    def run_one(self, item: tuple, task_id: int) -> str | None:
        """Run one item the queue gave out (`get`) and record its end; the job's state, as `task_done` gives it."""
        prompt_id = item[1]
        started = time.perf_counter()
        token = self.tokens.open(prompt_id)
        try:
            result = self.executor.execute(item[2], prompt_id, item[3], item[4], cancel=token)
            state = self._record_end(task_id, prompt_id, result)
        finally:
            self.tokens.close(prompt_id)
        self._need_gc = True
        sink = self.executor.server
        # A prompt put back by a shutdown is not done: it runs again at the next start.
        if state is not None and sink.client_id is not None:
            sink.send_sync("executing", {"node": None, "prompt_id": prompt_id}, sink.client_id)
        logging.info("Prompt executed in %.2f seconds", time.perf_counter() - started)
        return state

    def _housekeeping(self) -> None:
        """Apply the /free flags, and collect garbage after prompts (at most every GC_INTERVAL_SECONDS)."""
        import comfy.model_management

        flags = self.queue.get_flags()
        free_memory = flags.get("free_memory", False)
        if flags.get("unload_models", free_memory):
            comfy.model_management.unload_all_models()
            self._need_gc = True
        if free_memory:
            self.executor.reset()
            self._need_gc = True
        if self._need_gc and time.perf_counter() - self._last_gc > GC_INTERVAL_SECONDS:
            gc.collect()
            comfy.model_management.soft_empty_cache()
            self._last_gc = time.perf_counter()
            self._need_gc = False
