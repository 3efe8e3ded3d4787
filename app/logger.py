"""Logging set-up: one handler to stderr (or stdout), plus a ring buffer of recent lines for the log routes."""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from datetime import datetime

RECENT_LOG_LINES = 300
_recent: deque[dict[str, str]] = deque(maxlen=RECENT_LOG_LINES)
_recent_lock = threading.Lock()


class _RecentLinesHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        with _recent_lock:
            _recent.append({"t": datetime.now().isoformat(), "m": self.format(record) + "\n"})


def get_logs() -> list[dict[str, str]]:
    """The most recent log lines as `{"t": iso time, "m": text}`, oldest first."""
    with _recent_lock:
        return list(_recent)


def setup_logger(level: str = "INFO", use_stdout: bool = False) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stream = logging.StreamHandler(sys.stdout if use_stdout else sys.stderr)
    stream.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(stream)
    recent = _RecentLinesHandler()
    recent.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(recent)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
