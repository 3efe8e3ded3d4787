"""ComfyUI's `PromptQueue` face over the durable job store: the prompts waiting to run, the one running, and
the history of finished ones.

Thread-safe: the HTTP handlers put and inspect, the runner takes and completes. Every change that alters the
number of remaining prompts is told to the change listeners (the server announces it to clients with a `status`
message). The store is the truth; this class adds what only the running process knows: which items the runner
holds, `/free` flags, callbacks waiting for a job to finish, and whether the server is shutting down. The queue
knows the runner (`runner`: interrupts, health) but neither the server nor the executor.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from comfy_execution import metrics
from comfy_execution.store import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    RUNNING,
    SENSITIVE_EXTRA_DATA_KEYS,
    Job,
    JobStore,
    SQLiteJobStore,
    StoreWriteError,
    now_ms,
)

if TYPE_CHECKING:
    from comfy_execution.runner import Runner

__all__ = ["MAXIMUM_HISTORY_SIZE", "SENSITIVE_EXTRA_DATA_KEYS", "ExecutionStatus", "PromptQueue", "QueueItem",
           "engine_error", "history_state"]

MAXIMUM_HISTORY_SIZE = 10000
# A job the process died under twice is not tried a third time: it is probably what kills the process.
MAX_DEATHS = 2


class QueueItem(NamedTuple):
    """One queued prompt: ComfyUI's 5-tuple `[number, prompt_id, prompt, extra_data, outputs_to_execute]`."""

    number: float
    prompt_id: str
    prompt: dict
    extra_data: dict
    outputs_to_execute: list


class ExecutionStatus(NamedTuple):
    status_str: str
    completed: bool
    messages: list


def history_state(entry: dict) -> str:
    """The job state a history entry stands for: completed, cancelled (interrupted) or failed."""
    status = entry.get("status") or {}
    if status.get("status_str") == "success":
        return COMPLETED
    messages = status.get("messages") or []
    if any(message[0] == "execution_interrupted" for message in messages):
        return CANCELLED
    return FAILED


def engine_error(prompt_id: str, message: str, exception_type: str) -> dict:
    """An `execution_error` message's data for a failure outside any node (the engine, a worker, a crash)."""
    return {"prompt_id": prompt_id, "node_id": None, "node_type": None, "executed": [],
            "exception_message": message, "exception_type": exception_type, "traceback": [],
            "current_inputs": {}, "current_outputs": [], "timestamp": now_ms()}


def _error_history(job: Job, message: str, exception_type: str) -> dict:
    """The history entry of a job that ended without running to its end: one `execution_error` message."""
    error = engine_error(job.prompt_id, message, exception_type)
    extra_data = {key: value for key, value in job.extra_data.items() if key not in SENSITIVE_EXTRA_DATA_KEYS}
    return {"prompt": [job.number, job.prompt_id, job.prompt, extra_data, job.outputs_to_execute], "outputs": {},
            "status": {"status_str": "error", "completed": False, "messages": [["execution_error", error]],
                       "attempt": job.attempts},
            "meta": {}}


def _crash_history(job: Job) -> dict:
    """The history entry of a job given up on because the process died under it MAX_DEATHS times."""
    message = (f"The server process stopped unexpectedly while running this prompt, {job.deaths + 1} times "
               f"(attempt {job.attempts}); it is not retried again. Check the server log for what stopped it "
               "(running out of memory is the usual cause).")
    return _error_history(job, message, "ProcessDied")


def delete_output_files(entry: dict) -> None:
    """Delete the files of type "output" that a history entry's outputs name (used when the history cap drops
    the entry and --history-delete-outputs is set). Never touches anything outside the output folder."""
    import folder_paths

    output_dir = os.path.realpath(folder_paths.get_output_directory())
    for output in (entry.get("outputs") or {}).values():
        for items in (output or {}).values():
            for reference in items if isinstance(items, list) else ():
                if not isinstance(reference, dict) or reference.get("type") != "output" \
                        or not isinstance(reference.get("filename"), str):
                    continue
                path = os.path.realpath(os.path.join(output_dir, str(reference.get("subfolder") or ""),
                                                     reference["filename"]))
                if os.path.commonpath([path, output_dir]) != output_dir or not os.path.isfile(path):
                    continue
                try:
                    os.remove(path)
                except OSError as ex:
                    logging.warning("Could not delete the output file %s of a trimmed history entry: %s", path, ex)


class PromptQueue:
    """ComfyUI's queue API (`put`, `get`, `task_done`, `get_current_queue`, `delete_queue_item`, history...).

    `store` defaults to an in-memory store (nothing survives the process); `main.py` passes the durable one.
    History is capped at `history_max_items` finished jobs and, if given, `history_max_age_seconds`; with
    `delete_outputs`, a dropped entry's output files are deleted too. `runner` (set by whoever builds one,
    `main.py`) runs the prompts; `add_change_listener` registers who hears of changes (the server).

    `server` is ComfyUI's first argument, kept for code written against `PromptQueue(server)`: that object then
    hears of changes through its `queue_updated()`, reads the queue as `server.prompt_queue` and numbers prompts
    on after the stored ones (`server.number`). Kiln's server registers itself instead (`attach_queue`).
    """

    def __init__(self, server: Any = None, store: JobStore | None = None, *,
                 history_max_items: int = MAXIMUM_HISTORY_SIZE, history_max_age_seconds: float | None = None,
                 delete_outputs: bool = False):
        self.server = server
        self.store: Any = store if store is not None else SQLiteJobStore(":memory:")
        self.history_max_items = history_max_items
        self.history_max_age_seconds = history_max_age_seconds
        self.delete_outputs = delete_outputs
        self.mutex = threading.RLock()
        self.not_empty = threading.Condition(self.mutex)
        self.task_counter = 0
        self.currently_running: dict[int, tuple] = {}
        self.flags: dict[str, Any] = {}
        self.draining = False
        self.closed = False
        self.worker_thread: threading.Thread | None = None  # the last thread that called `get`
        self.runner: Runner | None = None
        self._change_listeners: list[Callable[[], None]] = []
        self._finish_listeners: list[Callable[[str], None]] = []
        self._finish_callbacks: dict[str, list[Callable[[], None]]] = {}
        self.recover()
        if server is not None:
            server.prompt_queue = self
            server.number = max(getattr(server, "number", 0), self.store.next_number())
            self.add_change_listener(server.queue_updated)

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every change to the number of remaining prompts (with the queue's lock held:
        it must not wait for another thread)."""
        self._change_listeners.append(listener)

    def add_finish_listener(self, listener: Callable[[str], None]) -> None:
        """Call `listener(prompt_id)` (without the queue's lock) after every job that reaches a final state."""
        self._finish_listeners.append(listener)

    def _announce(self) -> None:
        for listener in self._change_listeners:
            listener()

    # -- the start: what the last process left ------------------------------------------------------------------

    def recover(self) -> list[Job]:
        """Queue again the jobs the last process died under (once), fail those it died under twice, and apply
        the history caps. The jobs that were running, as they were."""
        with self.mutex:
            interrupted = self.store.list([RUNNING])
            for job in interrupted:
                if job.deaths + 1 >= MAX_DEATHS:
                    logging.error("Prompt %s was running when the server stopped unexpectedly, for the %s time: "
                                  "marking it failed.", job.prompt_id, "second" if job.deaths == 1 else "last")
                    self.store.fail(job.prompt_id, _crash_history(job))
                else:
                    logging.warning("Prompt %s was running when the server stopped unexpectedly: queued again "
                                    "(attempt %d was interrupted).", job.prompt_id, job.attempts)
                    self.store.release(job.prompt_id, crashed=True)
            pending = self.store.count([PENDING])
            if pending:
                logging.info("Resuming %d queued prompt(s) from the job store.", pending)
            trimmed = self._trim()
        for dropped in trimmed:
            delete_output_files(dropped.history or {})
        return interrupted

    # -- ComfyUI's queue ----------------------------------------------------------------------------------------

    def put(self, item: tuple | QueueItem, *, answer: dict | None = None,
            idempotency_key: str | None = None) -> Job:
        """Queue `item`, committed to the store before this returns. With an `idempotency_key` used before,
        nothing is queued and the earlier job is returned."""
        with self.mutex:
            job = self.store.put(tuple(item), answer=answer, idempotency_key=idempotency_key)
            if job.prompt_id == item[1] and job.state == PENDING:
                self._announce()
                self.not_empty.notify()
            return job

    def get(self, timeout: float | None = None) -> tuple[tuple, int] | None:
        """Take the next prompt (lowest number first); None if none came within `timeout` seconds, if a flag
        was set meanwhile, or while the server shuts down."""
        with self.not_empty:
            self.worker_thread = threading.current_thread()
            job = self._claim()
            if job is None:
                self.not_empty.wait(timeout=timeout)
                job = self._claim()
                if job is None:
                    return None
            item = job.item
            task_id = self.task_counter
            self.currently_running[task_id] = copy.deepcopy(item)
            self.task_counter += 1
            if job.started_at is not None:
                metrics.queue_wait_seconds.observe(max(0, job.started_at - job.queued_at) / 1000)
            self._announce()
            return item, task_id

    def _claim(self, prompt_id: str | None = None) -> Job | None:
        if self.draining or self.closed:
            return None
        return self.store.claim(prompt_id)

    def claim(self, prompt_id: str) -> tuple[tuple, int, Job] | None:
        """Take the pending job `prompt_id` now, out of queue order (a dispatcher routing by model does): its
        item, the task id for `task_done`, and the job. None if it is no longer pending or the server stops."""
        with self.mutex:
            job = self._claim(prompt_id)
            if job is None:
                return None
            task_id = self.task_counter
            self.currently_running[task_id] = copy.deepcopy(job.item)
            self.task_counter += 1
            if job.started_at is not None:
                metrics.queue_wait_seconds.observe(max(0, job.started_at - job.queued_at) / 1000)
            self._announce()
            return job.item, task_id, job

    def wait_for_change(self, timeout: float) -> None:
        """Block until a prompt is queued, a running one ends, a flag is set, or `timeout` seconds pass."""
        with self.not_empty:
            self.not_empty.wait(timeout=timeout)

    def notify_change(self) -> None:
        """Wake `wait_for_change` (a dispatcher's worker became free)."""
        with self.not_empty:
            self.not_empty.notify_all()

    def put_back(self, item_id: int, *, max_attempts: int, reason: str) -> str:
        """The worker running item `item_id` died: queue the job again (its attempt stays counted), or, once it
        has had `max_attempts` attempts, fail it with `reason`. The job's state afterwards."""
        with self.mutex:
            prompt = self.currently_running.pop(item_id)
            self.not_empty.notify_all()
            job = self.store.get(prompt[1])
            if job is None or job.state != RUNNING:
                return job.state if job is not None else FAILED
            if self.closed or job.attempts < max_attempts:
                self.store.release(job.prompt_id)
                self._announce()
                return PENDING
            self.store.fail(job.prompt_id, _error_history(job, reason, "WorkerDied"))
            self._announce()
        self._job_finished(job.prompt_id)
        return FAILED

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Stop the running prompt `prompt_id` (every running prompt when None) at its next step or node: the
        runner sets the cancellation token of that prompt's run. Without a runner (a driver that calls `get` and
        runs prompts itself), ComfyUI's way: the current run of this process is interrupted."""
        if self.runner is not None:
            self.runner.interrupt(prompt_id)
            return
        import comfy.model_management

        comfy.model_management.interrupt_current_processing(True)

    def task_done(self, item_id: int, history_result: dict, status: ExecutionStatus | None,
                  process_item: Any = None, status_extra: dict | None = None) -> str | None:
        """Record the end of the worker's item `item_id`: its history entry, and its job state. The state, or
        None when the job was put back in the queue because the server is shutting down. `status_extra` adds
        keys to the entry's `status` (which attempt ran, on which worker).

        When the store cannot be written (StoreWriteError: a full disk) nothing changes and the item stays
        running, so the same call can be made again once there is space."""
        with self.mutex:
            prompt = self.currently_running[item_id]
            if self.closed:
                self._item_ended(item_id)
                return None
            prompt_id = prompt[1]
            extra_data = {key: value for key, value in prompt[3].items() if key not in SENSITIVE_EXTRA_DATA_KEYS}
            stored_prompt = (prompt[0], prompt[1], prompt[2], extra_data, prompt[4])
            if process_item is not None:
                stored_prompt = process_item(stored_prompt)
            status_dict = status._asdict() if status is not None else None
            if status_dict is not None and status_extra:
                status_dict.update(status_extra)
            entry = {"prompt": stored_prompt, "outputs": {}, "status": status_dict}
            entry.update(history_result)
            state = history_state(entry)
            if state == CANCELLED and self.draining:
                # Interrupted by the shutdown, not by a user: run it again at the next start.
                self.store.release(prompt_id)
                self._item_ended(item_id)
                self._announce()
                return None
            try:
                {COMPLETED: self.store.complete, FAILED: self.store.fail, CANCELLED: self.store.cancel}[state](
                    prompt_id, entry)
            except StoreWriteError:
                raise
            except BaseException:
                self._item_ended(item_id)
                raise
            self._item_ended(item_id)
            job = self.store.get(prompt_id)
            if job is not None and job.started_at is not None and job.finished_at is not None:
                metrics.execution_seconds.observe(max(0, job.finished_at - job.started_at) / 1000)
            trimmed = self._trim()
            self._announce()
        self._job_finished(prompt_id)
        for dropped in trimmed:
            delete_output_files(dropped.history or {})
        return state

    def _item_ended(self, item_id: int) -> None:
        del self.currently_running[item_id]
        self.not_empty.notify_all()  # wait_until_idle

    def _trim(self) -> list[Job]:
        """Apply the history caps; the dropped jobs whose output files should go too."""
        max_age_ms = None if not self.history_max_age_seconds else int(self.history_max_age_seconds * 1000)
        dropped = self.store.trim(self.history_max_items, max_age_ms)
        return dropped if self.delete_outputs else []

    def get_current_queue(self) -> tuple[list, list]:
        return self.get_current_queue_volatile()

    def get_current_queue_volatile(self) -> tuple[list, list]:
        with self.mutex:
            running = [job.item for job in self.store.list([RUNNING])]
            pending = [job.item for job in self.store.list([PENDING])]
            return running, pending

    @property
    def queue(self) -> list[tuple]:
        """The pending items in run order (ComfyUI's heap list; read-only here)."""
        return self.get_current_queue_volatile()[1]

    def get_tasks_remaining(self) -> int:
        with self.mutex:
            return self.store.count([PENDING, RUNNING])

    def running_prompt_ids(self) -> list[str]:
        with self.mutex:
            return [job.prompt_id for job in self.store.list([RUNNING])]

    def taken_prompt_ids(self) -> list[str]:
        """The prompts given out by `get` or `claim` and not finished yet (in memory: no store access)."""
        with self.mutex:
            return [item[1] for item in self.currently_running.values()]

    def wipe_queue(self) -> None:
        with self.mutex:
            cancelled = self.store.cancel_pending()
            self._announce()
        for prompt_id in cancelled:
            self._job_finished(prompt_id)

    def delete_queue_item(self, function: Callable[[tuple], bool]) -> bool:
        """Cancel the first pending item for which `function(item)` is true."""
        with self.mutex:
            for job in self.store.list([PENDING]):
                if function(job.item):
                    self.store.cancel(job.prompt_id)
                    self._announce()
                    break
            else:
                return False
        self._job_finished(job.prompt_id)
        return True

    def cancel_pending(self, prompt_id: str) -> bool:
        """Cancel one pending job by id; False if it is not pending."""
        return self.delete_queue_item(lambda item: item[1] == prompt_id)

    # -- ComfyUI's history --------------------------------------------------------------------------------------

    def get_history(self, prompt_id: str | None = None, max_items: int | None = None,
                    offset: int = -1) -> dict:
        """ComfyUI's paging: oldest first; a negative offset with `max_items` gives the newest `max_items`."""
        with self.mutex:
            if prompt_id is not None:
                job = self.store.get(prompt_id)
                return {prompt_id: job.history} if job is not None and job.history is not None else {}
            if offset < 0 and max_items is not None:
                offset = self.store.count(with_history=True) - max_items
            # ComfyUI adds an item before it checks max_items, so 0 or less still gives one item.
            limit = None if max_items is None else max(max_items, 1)
            jobs = self.store.list(with_history=True, limit=limit, offset=max(offset, 0))
            return {job.prompt_id: job.history for job in jobs}

    @property
    def history(self) -> dict:
        """Every history entry, oldest first (ComfyUI's dict; read-only here)."""
        return self.get_history()

    def wipe_history(self) -> None:
        with self.mutex:
            self.store.forget()

    def delete_history_item(self, id_to_delete: str) -> None:
        with self.mutex:
            self.store.forget([id_to_delete])

    # -- /free flags ----------------------------------------------------------------------------------------------

    def set_flag(self, name: str, data: Any) -> None:
        with self.mutex:
            self.flags[name] = data
            self.not_empty.notify()

    def get_flags(self, reset: bool = True) -> dict:
        with self.mutex:
            flags = self.flags
            if reset:
                self.flags = {}
            else:
                flags = flags.copy()
            return flags

    # -- jobs -----------------------------------------------------------------------------------------------------

    def job_times(self, prompt_id: str) -> dict[str, int | None]:
        job = self.store.get(prompt_id)
        if job is None:
            return {}
        return {"create_time": job.queued_at, "execution_start_time": job.started_at,
                "execution_end_time": job.finished_at}

    def on_job_finished(self, prompt_id: str, callback: Callable[[], None]) -> bool:
        """Call `callback` (from whichever thread finishes it) once the job reaches a final state. False, and no
        call, if it is unknown or has already finished."""
        with self.mutex:
            job = self.store.get(prompt_id)
            if job is None or job.state not in (PENDING, RUNNING):
                return False
            self._finish_callbacks.setdefault(prompt_id, []).append(callback)
            return True

    def remove_job_callback(self, prompt_id: str, callback: Callable[[], None]) -> None:
        with self.mutex:
            callbacks = self._finish_callbacks.get(prompt_id, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._finish_callbacks.pop(prompt_id, None)

    def _job_finished(self, prompt_id: str) -> None:
        with self.mutex:
            callbacks = self._finish_callbacks.pop(prompt_id, [])
        for listener in self._finish_listeners:
            try:
                listener(prompt_id)
            except Exception:
                logging.exception("A listener of finished jobs failed on prompt %s", prompt_id)
        for callback in callbacks:
            try:
                callback()
            except Exception:
                logging.exception("A callback waiting for prompt %s failed", prompt_id)

    # -- health and shutdown ----------------------------------------------------------------------------------

    def worker_alive(self) -> bool:
        """Whether prompts can run: the runner says so; without one, whether the thread that takes them lives."""
        if self.runner is not None:
            return self.runner.alive()
        return self.worker_thread is not None and self.worker_thread.is_alive()

    def begin_shutdown(self) -> list[str]:
        """Take no more prompts; the ids of the ones running now."""
        with self.mutex:
            self.draining = True
            self.not_empty.notify_all()
            return self.taken_prompt_ids()

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until the worker holds no prompt; False if it still does after `timeout` seconds."""
        with self.not_empty:
            return self.not_empty.wait_for(lambda: not self.currently_running, timeout=timeout)

    def close(self) -> None:
        """Put back any prompt still running (it runs again at the next start) and close the store."""
        with self.mutex:
            if self.closed:
                return
            for item in self.currently_running.values():
                logging.warning("Prompt %s did not stop in time; it will run again at the next start.", item[1])
                self.store.release(item[1])
            self.closed = True
            self.store.close()
