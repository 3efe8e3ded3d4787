"""Each job's events, numbered, for clients that follow a job without a WebSocket (GET /api/jobs/{id}/events).

Every message the executor emits for a prompt (`execution_start`, `executing`, `progress`, `progress_state`,
`executed`, `execution_cached`, `execution_success`, `execution_error`, `execution_interrupted`, ...) is recorded
here whether or not a WebSocket client asked for it, numbered from 1 per job. While the job runs its events stay in
memory; when it ends they are written to the job store next to its history, so a client that reconnects with
`Last-Event-ID` gets exactly what it missed, also after the job ended (for as long as the history keeps the job).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

# Progress updates beyond this many events per job are not kept (the others always are): a long sampling run
# must not grow without bound.
MAX_EVENTS_PER_JOB = 5000
_PROGRESS_EVENTS = ("progress", "progress_state")
# Jobs that ended recently: a message that still comes for one (the worker's last `executing` null) is not a new
# job's first event.
_RECENTLY_ENDED = 1024

Event = tuple[int, str, Any]  # (id, type, data)
Listener = Callable[[Event], None]


class JobEventLog:
    """Numbered events per prompt id; thread-safe (the worker records, the event loop reads)."""

    def __init__(self, store: Any):
        self.store = store
        self._lock = threading.Lock()
        self._running: dict[str, list[Event]] = {}
        self._listeners: dict[str, list[Listener]] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._observers: list[Callable[[str, Any], None]] = []

    def add_observer(self, observer: Callable[[str, Any], None]) -> None:
        """Call `observer(event, data)` for every job event recorded (from the recording thread)."""
        self._observers.append(observer)

    def record(self, event: str, data: Any) -> None:
        """Note one executor message; those without a prompt id (or not JSON objects) are not a job's."""
        if not isinstance(event, str) or not isinstance(data, dict) or not isinstance(data.get("prompt_id"), str):
            return
        prompt_id = data["prompt_id"]
        with self._lock:
            if prompt_id in self._ended:
                if event == "execution_start":  # the same prompt id queued again
                    del self._ended[prompt_id]
                else:
                    return
            events = self._running.setdefault(prompt_id, [])
            if len(events) >= MAX_EVENTS_PER_JOB and event in _PROGRESS_EVENTS:
                return
            entry = (len(events) + 1, event, data)
            events.append(entry)
            listeners = list(self._listeners.get(prompt_id, ()))
        for listener in listeners:
            listener(entry)
        for observer in self._observers:
            try:
                observer(event, data)
            except Exception:
                logging.exception("An observer of job events failed on %s", event)

    def finish(self, prompt_id: str) -> None:
        """The job ended: keep its events in the store and drop them from memory."""
        with self._lock:
            events = self._running.pop(prompt_id, [])
            self._ended[prompt_id] = None
            while len(self._ended) > _RECENTLY_ENDED:
                self._ended.popitem(last=False)
        save = getattr(self.store, "save_events", None)
        if save is None:
            return
        try:
            save(prompt_id, [list(entry) for entry in events])
        except Exception:  # a full disk: the history is kept, only the replay of this job's events is lost
            logging.exception("Could not keep the events of prompt %s", prompt_id)

    def events(self, prompt_id: str, after: int = 0) -> list[Event]:
        """The job's events with an id above `after`: from memory while it runs, else from the store."""
        with self._lock:
            running = self._running.get(prompt_id)
            if running is not None:
                return running[after:]
        load = getattr(self.store, "events", None)
        stored = load(prompt_id) if load is not None else None
        return [tuple(entry) for entry in (stored or [])[after:]]

    def subscribe(self, prompt_id: str, listener: Listener) -> None:
        with self._lock:
            self._listeners.setdefault(prompt_id, []).append(listener)

    def unsubscribe(self, prompt_id: str, listener: Listener) -> None:
        with self._lock:
            listeners = self._listeners.get(prompt_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(prompt_id, None)
