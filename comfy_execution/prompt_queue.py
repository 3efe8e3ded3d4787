"""The queue of prompts waiting to run, the one running, and the history of finished ones (in memory).

Thread-safe: the HTTP handlers put and inspect, the worker thread takes and completes. Every change that
alters the number of remaining prompts is announced to clients with a `status` message.
"""

from __future__ import annotations

import copy
import heapq
import threading
import time
from typing import Any, NamedTuple

MAXIMUM_HISTORY_SIZE = 10000
SENSITIVE_EXTRA_DATA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")


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


def _now_ms() -> int:
    return int(time.time() * 1000)


class PromptQueue:
    """ComfyUI's queue API (`put`, `get`, `task_done`, `get_current_queue`, `delete_queue_item`, history...)."""

    def __init__(self, server: Any):
        self.server = server
        self.mutex = threading.RLock()
        self.not_empty = threading.Condition(self.mutex)
        self.task_counter = 0
        self.queue: list[tuple] = []
        self.currently_running: dict[int, tuple] = {}
        self.history: dict[str, dict] = {}
        self.flags: dict[str, Any] = {}
        self.times: dict[str, dict[str, int | None]] = {}
        self.cancelled: dict[str, dict] = {}
        server.prompt_queue = self

    def _announce(self) -> None:
        self.server.queue_updated()

    def put(self, item: tuple | QueueItem) -> None:
        with self.mutex:
            item = tuple(item)
            heapq.heappush(self.queue, item)
            self.times[item[1]] = {"create_time": _now_ms(), "execution_start_time": None,
                                   "execution_end_time": None}
            self._announce()
            self.not_empty.notify()

    def get(self, timeout: float | None = None) -> tuple[tuple, int] | None:
        """Take the next prompt (lowest number first); None if none came within `timeout` seconds."""
        with self.not_empty:
            while len(self.queue) == 0:
                self.not_empty.wait(timeout=timeout)
                if timeout is not None and len(self.queue) == 0:
                    return None
            item = heapq.heappop(self.queue)
            task_id = self.task_counter
            self.currently_running[task_id] = copy.deepcopy(item)
            self.task_counter += 1
            self.times.setdefault(item[1], {"create_time": _now_ms()})["execution_start_time"] = _now_ms()
            self._announce()
            return item, task_id

    def task_done(self, item_id: int, history_result: dict, status: ExecutionStatus | None,
                  process_item: Any = None) -> None:
        with self.mutex:
            prompt = self.currently_running.pop(item_id)
            while len(self.history) >= MAXIMUM_HISTORY_SIZE:
                oldest = next(iter(self.history))
                self.history.pop(oldest)
                self.times.pop(oldest, None)
            extra_data = {key: value for key, value in prompt[3].items() if key not in SENSITIVE_EXTRA_DATA_KEYS}
            stored_prompt = (prompt[0], prompt[1], prompt[2], extra_data, prompt[4])
            if process_item is not None:
                stored_prompt = process_item(stored_prompt)
            status_dict = status._asdict() if status is not None else None
            self.history[prompt[1]] = {"prompt": stored_prompt, "outputs": {}, "status": status_dict}
            self.history[prompt[1]].update(history_result)
            self.times.setdefault(prompt[1], {})["execution_end_time"] = _now_ms()
            self._announce()

    def get_current_queue(self) -> tuple[list, list]:
        with self.mutex:
            running = list(self.currently_running.values())
            return running, copy.deepcopy(self.queue)

    def get_current_queue_volatile(self) -> tuple[list, list]:
        with self.mutex:
            return list(self.currently_running.values()), list(self.queue)

    def get_tasks_remaining(self) -> int:
        with self.mutex:
            return len(self.queue) + len(self.currently_running)

    def running_prompt_ids(self) -> list[str]:
        with self.mutex:
            return [item[1] for item in self.currently_running.values()]

    def wipe_queue(self) -> None:
        with self.mutex:
            for item in self.queue:
                self._mark_cancelled(item)
            self.queue = []
            self._announce()

    def delete_queue_item(self, function: Any) -> bool:
        """Remove the first pending item for which `function(item)` is true."""
        with self.mutex:
            for index, item in enumerate(self.queue):
                if function(item):
                    self._mark_cancelled(item)
                    if len(self.queue) == 1:
                        self.wipe_queue()
                    else:
                        self.queue.pop(index)
                        heapq.heapify(self.queue)
                    self._announce()
                    return True
            return False

    def _mark_cancelled(self, item: tuple) -> None:
        times = self.times.setdefault(item[1], {"create_time": _now_ms()})
        times["execution_end_time"] = _now_ms()
        self.cancelled[item[1]] = {"prompt": item}
        while len(self.cancelled) > MAXIMUM_HISTORY_SIZE:
            self.cancelled.pop(next(iter(self.cancelled)))

    def get_history(self, prompt_id: str | None = None, max_items: int | None = None,
                    offset: int = -1) -> dict:
        """ComfyUI's paging: oldest first; a negative offset with `max_items` gives the newest `max_items`."""
        with self.mutex:
            if prompt_id is not None:
                return {prompt_id: copy.deepcopy(self.history[prompt_id])} if prompt_id in self.history else {}
            out = {}
            if offset < 0 and max_items is not None:
                offset = len(self.history) - max_items
            for index, key in enumerate(self.history):
                if index >= offset:
                    out[key] = self.history[key]
                    if max_items is not None and len(out) >= max_items:
                        break
            return copy.deepcopy(out)

    def wipe_history(self) -> None:
        with self.mutex:
            self.history = {}

    def delete_history_item(self, id_to_delete: str) -> None:
        with self.mutex:
            self.history.pop(id_to_delete, None)

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

    def job_times(self, prompt_id: str) -> dict[str, int | None]:
        with self.mutex:
            return dict(self.times.get(prompt_id, {}))
