"""The durable job store: every queued, running and finished prompt as one row of a SQLite file.

`JobStore` is the small interface the queue face (`comfy_execution.prompt_queue.PromptQueue`) and the job API
speak to; `SQLiteJobStore` is the embedded implementation (one WAL-mode file, safe to share between the HTTP
thread and the worker thread). Another dispatcher, a distributed engine for instance, can stand in by
implementing the same methods.

A job moves pending -> in_progress -> completed | failed | cancelled, or pending -> cancelled. A running job goes
back to pending when the process stops under it: `release` (a graceful stop, or a crash found at the next
start, which also counts a death). Every write is committed before the method returns.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

PENDING = "pending"
RUNNING = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
JOB_STATES = (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED)
FINISHED_STATES = (COMPLETED, FAILED, CANCELLED)

# Secrets a client may pass for API nodes: kept while the job may still run, dropped once it has finished.
SENSITIVE_EXTRA_DATA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")

SCHEMA_VERSION = 1


def now_ms() -> int:
    return int(time.time() * 1000)


def store_path(store: str | None, database_url: str | None, user_directory: str) -> str:
    """The job store's file from `--store PATH` or `--database-url sqlite:///PATH` (SQLAlchemy's form: three
    slashes then a relative path, four for an absolute one), else `<user directory>/kiln.db`.

    Raises ValueError, with what to write instead, for any other URL.
    """
    if store:
        return store
    if database_url:
        prefix = "sqlite:///"
        if not database_url.startswith(prefix) or len(database_url) == len(prefix):
            raise ValueError(f"--database-url {database_url!r} is not supported: Kiln keeps its job store in SQLite. "
                             "Use --database-url sqlite:///PATH (or sqlite:////ABSOLUTE/PATH), or --store PATH.")
        return database_url[len(prefix):]
    return os.path.join(user_directory, "kiln.db")


@dataclass(frozen=True)
class Job:
    """One job as stored. Times are epoch milliseconds; `history` is the ComfyUI history entry (`prompt`,
    `outputs`, `status`, `meta`) once the job ran, None before and for jobs cancelled while pending."""

    prompt_id: str
    number: float
    prompt: dict
    extra_data: dict
    outputs_to_execute: list
    state: str
    attempts: int
    deaths: int
    queued_at: int
    started_at: int | None
    finished_at: int | None
    history: dict | None
    answer: dict | None
    idempotency_key: str | None

    @property
    def item(self) -> tuple:
        """ComfyUI's queue item: `(number, prompt_id, prompt, extra_data, outputs_to_execute)`."""
        return (self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs_to_execute)


class DuplicateJobError(ValueError):
    """A job with this prompt_id is already pending or running."""


class StoreInUseError(RuntimeError):
    """Another process has this store file open."""


class StoreDamagedError(RuntimeError):
    """The store file is not a SQLite database, or its pages fail SQLite's check."""

    def __init__(self, path: str, detail: str):
        super().__init__(f"The job store {path} is damaged or not a Kiln job store ({detail}). Start with "
                         "--store-recover to move it aside and begin with an empty queue and history, or give "
                         "another file with --store PATH.")
        self.path = path


class StoreLocationError(RuntimeError):
    """The store's folder cannot be written (read-only file system, no permission)."""

    def __init__(self, path: str, detail: str):
        folder = os.path.dirname(os.path.abspath(path))
        super().__init__(f"The job store {path} cannot be written: its folder {folder} is read-only or not "
                         f"writable ({detail}). Make the folder writable, or give another place with --store PATH.")
        self.path = path


class StoreWriteError(RuntimeError):
    """A write to the store failed on its disk (full, or an I/O error); nothing of that write was kept."""

    def __init__(self, path: str, detail: str):
        super().__init__(f"The job store {path} cannot be written: {detail}. Free space on its disk; "
                         "nothing already accepted is lost.")
        self.path = path


# SQLite's primary result codes that mean "this file is not a usable database" and "the disk failed the write".
_DAMAGED_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_LOCATION_CODES = {8, 14}  # SQLITE_READONLY, SQLITE_CANTOPEN
_WRITE_FAILED_CODES = {10, 13}  # SQLITE_IOERR, SQLITE_FULL


def _primary_code(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def move_aside(path: str) -> str:
    """Rename a damaged store file (and its -wal and -shm files) to `<path>.damaged-<UTC time>`; the new name."""
    aside = f"{path}.damaged-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    for suffix in ("", "-wal", "-shm"):
        if os.path.lexists(path + suffix):
            os.replace(path + suffix, aside + suffix)
    return aside


class JobStore(Protocol):
    """Where jobs live. Implementations must be safe to call from several threads."""

    def put(self, item: Sequence, *, answer: dict | None = None, idempotency_key: str | None = None) -> Job:
        """Queue `item` (ComfyUI's 5-tuple) as a pending job. With an `idempotency_key` already used, nothing is
        queued and the job first queued under that key is returned."""

    def claim(self, prompt_id: str | None = None) -> Job | None:
        """Take the pending job with the lowest (number, prompt_id), or the pending job `prompt_id` (a dispatcher
        that routes by model may run jobs out of order), mark it running, count an attempt. None if there is no
        such pending job."""

    def complete(self, prompt_id: str, history: dict) -> bool:
        """Record a job that ran to the end."""

    def fail(self, prompt_id: str, history: dict) -> bool:
        """Record a job that ended with an error."""

    def cancel(self, prompt_id: str, history: dict | None = None) -> bool:
        """Cancel a pending job (no history) or record a running one as cancelled (its interrupted history).
        False when the job is unknown or already finished."""

    def release(self, prompt_id: str, *, crashed: bool = False) -> Job | None:
        """Put a running job back in the queue; `crashed` counts a death of the process that ran it."""

    def get(self, prompt_id: str) -> Job | None:
        """The job, or None if the id is unknown."""

    def list(self, states: Iterable[str] | None = None, *, with_history: bool = False, limit: int | None = None,
             offset: int = 0) -> list[Job]:
        """Jobs in these states (all by default): unfinished first in queue order, then finished ones oldest
        first. `with_history` keeps only jobs that have a history entry."""

    # What the queue face needs beyond the core: counting, ComfyUI's queue and history edits, upkeep.

    def count(self, states: Iterable[str] | None = None, *, with_history: bool = False) -> int:
        """How many jobs `list` would give."""

    def counts_by_state(self) -> dict[str, int]:
        """Every state with its number of jobs."""

    def find(self, idempotency_key: str) -> Job | None:
        """The job queued under this Idempotency-Key, if any."""

    def queue_position(self, prompt_id: str) -> int | None:
        """How many pending jobs run before this one; None unless it is pending."""

    def cancel_pending(self) -> list[str]:
        """Cancel every pending job at once; their ids."""

    def forget(self, prompt_ids: Iterable[str] | None = None) -> int:
        """Delete the history entries (and their jobs) of these ids, or of every job that has one."""

    def trim(self, max_items: int | None, max_age_ms: int | None = None) -> list[Job]:
        """Delete finished jobs beyond the newest `max_items` and those finished more than `max_age_ms` ago,
        oldest first; the deleted jobs."""

    def next_number(self) -> int:
        """One more than the largest non-negative number stored: where new jobs' numbers continue."""

    def save_events(self, prompt_id: str, events: list) -> None:
        """Keep a finished job's numbered events (comfy_execution.job_events) for as long as the job is kept."""

    def events(self, prompt_id: str) -> list | None:
        """The events `save_events` kept for the job, None if there are none."""

    def close(self) -> None:
        """Release the store's resources; no call may follow."""


_COLUMNS = ("prompt_id, number, state, item, attempts, deaths, queued_at, started_at, finished_at, history, answer, "
            "idempotency_key")
_ORDER = "ORDER BY finished_seq IS NOT NULL, finished_seq, number, prompt_id"


def _dumps(value: Any) -> str:
    # Node ui dicts may hold values JSON does not know (numpy scalars, paths); store their text.
    return json.dumps(value, separators=(",", ":"), default=str)


def _without_secrets(extra_data: Any) -> Any:
    if not isinstance(extra_data, dict):
        return extra_data
    return {key: value for key, value in extra_data.items() if key not in SENSITIVE_EXTRA_DATA_KEYS}


def _state_filter(states: Iterable[str] | None, with_history: bool) -> tuple[str, list]:
    clauses, parameters = [], []
    if states is not None:
        states = list(states)
        unknown = [state for state in states if state not in JOB_STATES]
        if unknown:
            raise ValueError(f"Unknown job state(s) {unknown}; expected any of {', '.join(JOB_STATES)}")
        clauses.append(f"state IN ({', '.join('?' for _ in states)})" if states else "0")
        parameters.extend(states)
    if with_history:
        clauses.append("history IS NOT NULL")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", parameters


def _lock_exclusively(lock_path: str) -> Any:
    """Hold an OS lock on `lock_path` for as long as the returned file stays open (the OS drops it when the
    process dies), so two servers never share a store: each would take the other's running job for a crash."""
    lock_file = open(lock_path, "a+")  # kept open: closing it drops the lock
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; one server per store is up to the user
        return lock_file
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as ex:
        lock_file.close()
        raise StoreInUseError(f"Another Kiln process is using the job store {lock_path[:-len('.lock')]}; stop it "
                              "or give this one its own with --store PATH.") from ex
    return lock_file


class SQLiteJobStore:
    """`JobStore` in one SQLite file (WAL mode), or in memory with `path=":memory:"`.

    One connection guarded by a lock: every call is a short transaction, so the HTTP thread and the worker
    thread never wait on each other for long. `synchronous` is SQLite's durability setting: "FULL" syncs the
    WAL on every commit (safe against power loss), "NORMAL" only against the process dying.
    """

    def __init__(self, path: str, *, synchronous: str = "FULL"):
        if synchronous not in ("OFF", "NORMAL", "FULL"):
            raise ValueError(f"synchronous must be OFF, NORMAL or FULL, not {synchronous!r}")
        self.path = path
        self._lock_file = None
        self._lock = threading.RLock()
        if path != ":memory:":
            folder = os.path.dirname(os.path.abspath(path))
            try:
                os.makedirs(folder, exist_ok=True)
                if not os.access(folder, os.W_OK):
                    raise PermissionError(f"no write access to {folder}")
                self._lock_file = _lock_exclusively(path + ".lock")
            except StoreInUseError:
                raise
            except OSError as error:
                raise StoreLocationError(path, error.strerror or str(error)) from error
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._open(synchronous)
        except BaseException:
            self.close()
            raise

    def _open(self, synchronous: str) -> None:
        """Settings, a check of the file's pages and the schema; damaged files and unwritable places raise."""
        try:
            self._connection.execute("PRAGMA busy_timeout = 10000")
            self._connection.execute("PRAGMA foreign_keys = ON")  # a job's events and deliveries go with it
            if self.path != ":memory:":
                self._connection.execute("PRAGMA journal_mode = WAL")
                problems = [row[0] for row in self._connection.execute("PRAGMA quick_check").fetchall()]
                if problems != ["ok"]:
                    raise StoreDamagedError(self.path, "; ".join(" ".join(str(problem).split())
                                                                 for problem in problems[:3]))
            self._connection.execute(f"PRAGMA synchronous = {synchronous}")
            self._create_schema()
        except sqlite3.Error as error:
            code = _primary_code(error)
            if code in _DAMAGED_CODES:
                raise StoreDamagedError(self.path, str(error)) from error
            if code in _LOCATION_CODES:
                raise StoreLocationError(self.path, str(error)) from error
            raise

    def _create_schema(self) -> None:
        with self._write() as cursor:
            version = cursor.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"The job store {self.path} was written by a newer Kiln (schema {version}, "
                                   f"this one knows {SCHEMA_VERSION}); use another --store file.")
            # `number` has no declared type so ints stay ints and floats floats, and both sort as numbers.
            cursor.execute("""
                CREATE TABLE IF NOT EXISTS jobs (
                    prompt_id TEXT PRIMARY KEY,
                    number NOT NULL,
                    state TEXT NOT NULL,
                    item TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    deaths INTEGER NOT NULL DEFAULT 0,
                    queued_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER,
                    finished_seq INTEGER,
                    history TEXT,
                    answer TEXT,
                    idempotency_key TEXT UNIQUE
                )""")
            cursor.execute("CREATE INDEX IF NOT EXISTS jobs_by_queue_order ON jobs (state, number, prompt_id)")
            cursor.execute("CREATE INDEX IF NOT EXISTS jobs_by_finish_order ON jobs (finished_seq)")
            # Added after schema 1 without a version change: an older Kiln ignores the table.
            cursor.execute("""
                CREATE TABLE IF NOT EXISTS job_events (
                    prompt_id TEXT PRIMARY KEY REFERENCES jobs (prompt_id) ON DELETE CASCADE,
                    events TEXT NOT NULL
                )""")
            cursor.execute("""
                CREATE TABLE IF NOT EXISTS webhook_deliveries (
                    id TEXT PRIMARY KEY,
                    prompt_id TEXT NOT NULL REFERENCES jobs (prompt_id) ON DELETE CASCADE,
                    event TEXT NOT NULL,
                    url TEXT NOT NULL,
                    body TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    next_at INTEGER NOT NULL,
                    delivered_at INTEGER,
                    last_error TEXT
                )""")
            cursor.execute("CREATE INDEX IF NOT EXISTS deliveries_due ON webhook_deliveries (state, next_at)")
            cursor.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """One transaction. A disk that is full or fails makes it StoreWriteError, with nothing of it kept."""
        with self._lock:
            cursor = self._connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                    cursor.execute("COMMIT")
                except BaseException:
                    # SQLite may have rolled back by itself already (it does for some SQLITE_FULL cases).
                    if self._connection.in_transaction:
                        cursor.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as error:
                if _primary_code(error) in _WRITE_FAILED_CODES:
                    raise StoreWriteError(self.path, str(error)) from error
                raise

    def _read(self, sql: str, parameters: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    @staticmethod
    def _job(row: tuple) -> Job:
        (prompt_id, number, state, item, attempts, deaths, queued_at, started_at, finished_at, history, answer,
         idempotency_key) = row
        _, _, prompt, extra_data, outputs_to_execute = json.loads(item)
        return Job(prompt_id, number, prompt, extra_data, outputs_to_execute, state, attempts, deaths, queued_at,
                   started_at, finished_at, None if history is None else json.loads(history),
                   None if answer is None else json.loads(answer), idempotency_key)

    @staticmethod
    def _get(cursor: sqlite3.Cursor, prompt_id: str) -> Job | None:
        row = cursor.execute(f"SELECT {_COLUMNS} FROM jobs WHERE prompt_id = ?", (prompt_id,)).fetchone()
        return None if row is None else SQLiteJobStore._job(row)

    # -- JobStore -------------------------------------------------------------------------------------------------

    def put(self, item: Sequence, *, answer: dict | None = None, idempotency_key: str | None = None) -> Job:
        number, prompt_id, prompt, extra_data, outputs_to_execute = item
        with self._write() as cursor:
            if idempotency_key is not None:
                row = cursor.execute(f"SELECT {_COLUMNS} FROM jobs WHERE idempotency_key = ?",
                                     (idempotency_key,)).fetchone()
                if row is not None:
                    return self._job(row)
            existing = cursor.execute("SELECT state FROM jobs WHERE prompt_id = ?", (prompt_id,)).fetchone()
            if existing is not None:
                if existing[0] not in FINISHED_STATES:
                    raise DuplicateJobError(f"A job with prompt_id {prompt_id} is already {existing[0]}; "
                                            "use another prompt_id.")
                # ComfyUI lets a finished prompt_id run again; its new history entry replaces the old one.
                cursor.execute("DELETE FROM jobs WHERE prompt_id = ?", (prompt_id,))
            queued_at = now_ms()
            cursor.execute(
                "INSERT INTO jobs (prompt_id, number, state, item, queued_at, answer, idempotency_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (prompt_id, number, PENDING, _dumps([number, prompt_id, prompt, extra_data, outputs_to_execute]),
                 queued_at, None if answer is None else _dumps(answer), idempotency_key))
        return Job(prompt_id, number, prompt, extra_data, list(outputs_to_execute), PENDING, 0, 0, queued_at, None,
                   None, None, answer, idempotency_key)

    def claim(self, prompt_id: str | None = None) -> Job | None:
        with self._write() as cursor:
            if prompt_id is None:
                row = cursor.execute("SELECT prompt_id FROM jobs WHERE state = ? ORDER BY number, prompt_id LIMIT 1",
                                     (PENDING,)).fetchone()
            else:
                row = cursor.execute("SELECT prompt_id FROM jobs WHERE state = ? AND prompt_id = ?",
                                     (PENDING, prompt_id)).fetchone()
            if row is None:
                return None
            cursor.execute("UPDATE jobs SET state = ?, attempts = attempts + 1, started_at = ? WHERE prompt_id = ?",
                           (RUNNING, now_ms(), row[0]))
            return self._get(cursor, row[0])

    def _finish(self, prompt_id: str, state: str, history: dict | None, from_states: tuple[str, ...]) -> bool:
        with self._write() as cursor:
            row = cursor.execute("SELECT state, item FROM jobs WHERE prompt_id = ?", (prompt_id,)).fetchone()
            if row is None or row[0] not in from_states:
                return False
            item = json.loads(row[1])
            item[3] = _without_secrets(item[3])
            next_seq = cursor.execute("SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM jobs").fetchone()[0]
            cursor.execute(
                "UPDATE jobs SET state = ?, item = ?, history = ?, finished_at = ?, finished_seq = ? "
                "WHERE prompt_id = ?",
                (state, _dumps(item), None if history is None else _dumps(history), now_ms(), next_seq, prompt_id))
            return True

    def complete(self, prompt_id: str, history: dict) -> bool:
        return self._finish(prompt_id, COMPLETED, history, (RUNNING, PENDING))

    def fail(self, prompt_id: str, history: dict) -> bool:
        return self._finish(prompt_id, FAILED, history, (RUNNING, PENDING))

    def cancel(self, prompt_id: str, history: dict | None = None) -> bool:
        return self._finish(prompt_id, CANCELLED, history, (RUNNING, PENDING))

    def release(self, prompt_id: str, *, crashed: bool = False) -> Job | None:
        with self._write() as cursor:
            cursor.execute("UPDATE jobs SET state = ?, started_at = NULL, deaths = deaths + ? "
                           "WHERE prompt_id = ? AND state = ?", (PENDING, int(crashed), prompt_id, RUNNING))
            return self._get(cursor, prompt_id) if cursor.rowcount else None

    def get(self, prompt_id: str) -> Job | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE prompt_id = ?", (prompt_id,))
        return self._job(rows[0]) if rows else None

    def list(self, states: Iterable[str] | None = None, *, with_history: bool = False, limit: int | None = None,
             offset: int = 0) -> list[Job]:
        where, parameters = _state_filter(states, with_history)
        sql = f"SELECT {_COLUMNS} FROM jobs{where} {_ORDER} LIMIT ? OFFSET ?"
        rows = self._read(sql, [*parameters, -1 if limit is None else max(limit, 0), max(offset, 0)])
        return [self._job(row) for row in rows]

    # -- beyond the core ------------------------------------------------------------------------------------------

    def count(self, states: Iterable[str] | None = None, *, with_history: bool = False) -> int:
        where, parameters = _state_filter(states, with_history)
        return self._read(f"SELECT COUNT(*) FROM jobs{where}", parameters)[0][0]

    def counts_by_state(self) -> dict[str, int]:
        counts = dict.fromkeys(JOB_STATES, 0)
        counts.update(dict(self._read("SELECT state, COUNT(*) FROM jobs GROUP BY state")))
        return counts

    def find(self, idempotency_key: str) -> Job | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE idempotency_key = ?", (idempotency_key,))
        return self._job(rows[0]) if rows else None

    def queue_position(self, prompt_id: str) -> int | None:
        with self._lock:
            rows = self._read("SELECT number FROM jobs WHERE prompt_id = ? AND state = ?", (prompt_id, PENDING))
            if not rows:
                return None
            number = rows[0][0]
            return self._read("SELECT COUNT(*) FROM jobs WHERE state = ? AND (number < ? OR "
                              "(number = ? AND prompt_id < ?))", (PENDING, number, number, prompt_id))[0][0]

    def cancel_pending(self) -> list[str]:
        with self._write() as cursor:
            ids = [row[0] for row in cursor.execute(
                "SELECT prompt_id FROM jobs WHERE state = ? ORDER BY number, prompt_id", (PENDING,))]
            finished = now_ms()
            first_seq = cursor.execute("SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM jobs").fetchone()[0]
            for seq, prompt_id in enumerate(ids, start=first_seq):
                item = json.loads(cursor.execute("SELECT item FROM jobs WHERE prompt_id = ?",
                                                 (prompt_id,)).fetchone()[0])
                item[3] = _without_secrets(item[3])
                cursor.execute("UPDATE jobs SET state = ?, item = ?, finished_at = ?, finished_seq = ? "
                               "WHERE prompt_id = ?", (CANCELLED, _dumps(item), finished, seq, prompt_id))
            return ids

    def forget(self, prompt_ids: Iterable[str] | None = None) -> int:
        with self._write() as cursor:
            if prompt_ids is None:
                cursor.execute("DELETE FROM jobs WHERE history IS NOT NULL")
                return cursor.rowcount
            deleted = 0
            for prompt_id in prompt_ids:
                cursor.execute("DELETE FROM jobs WHERE prompt_id = ? AND history IS NOT NULL", (prompt_id,))
                deleted += cursor.rowcount
            return deleted

    def trim(self, max_items: int | None, max_age_ms: int | None = None) -> list[Job]:
        with self._write() as cursor:
            doomed: list[tuple] = []
            finished = f"state IN ({', '.join('?' for _ in FINISHED_STATES)})"
            if max_age_ms is not None:
                doomed += cursor.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {finished} AND finished_at < ? "
                                         "ORDER BY finished_seq", (*FINISHED_STATES, now_ms() - max_age_ms)).fetchall()
            if max_items is not None:
                total = cursor.execute(f"SELECT COUNT(*) FROM jobs WHERE {finished}", FINISHED_STATES).fetchone()[0]
                excess = total - max(max_items, 0) - len(doomed)
                if excess > 0:
                    seen = {row[0] for row in doomed}
                    rows = cursor.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {finished} ORDER BY finished_seq "
                                          "LIMIT ?", (*FINISHED_STATES, excess + len(doomed))).fetchall()
                    doomed += [row for row in rows if row[0] not in seen][:excess]
            for row in doomed:
                cursor.execute("DELETE FROM jobs WHERE prompt_id = ?", (row[0],))
            return [self._job(row) for row in doomed]

    def next_number(self) -> int:
        largest = self._read("SELECT MAX(number) FROM jobs WHERE number >= 0")[0][0]
        return 0 if largest is None else int(largest) + 1

    def save_events(self, prompt_id: str, events: list) -> None:
        with self._write() as cursor:
            if cursor.execute("SELECT 1 FROM jobs WHERE prompt_id = ?", (prompt_id,)).fetchone() is not None:
                cursor.execute("INSERT OR REPLACE INTO job_events (prompt_id, events) VALUES (?, ?)",
                               (prompt_id, _dumps(events)))

    # -- webhook deliveries (comfy_execution/webhooks.py) ----------------------------------------------------------

    def add_delivery(self, delivery_id: str, prompt_id: str, event: str, url: str, body: str) -> None:
        """A delivery to make now (kept until delivered or expired)."""
        now = now_ms()
        with self._write() as cursor:
            cursor.execute("INSERT OR IGNORE INTO webhook_deliveries (id, prompt_id, event, url, body, state, "
                           "created_at, next_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                           (delivery_id, prompt_id, event, url, body, now, now))

    def due_deliveries(self, now: int, limit: int = 32) -> list[dict]:
        rows = self._read("SELECT id, prompt_id, event, url, body, attempts, created_at FROM webhook_deliveries "
                          "WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?", (now, limit))
        keys = ("id", "prompt_id", "event", "url", "body", "attempts", "created_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def next_delivery_at(self) -> int | None:
        rows = self._read("SELECT MIN(next_at) FROM webhook_deliveries WHERE state = 'pending'")
        return rows[0][0] if rows else None

    def record_delivery(self, delivery_id: str, *, delivered: bool, error: str | None = None,
                        next_at: int | None = None) -> None:
        """One try: delivered; or failed, to be tried again at `next_at` (None: expired, given up)."""
        with self._write() as cursor:
            if delivered:
                cursor.execute("UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, "
                               "delivered_at = ?, last_error = NULL WHERE id = ?", (now_ms(), delivery_id))
            else:
                cursor.execute("UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_at = ?, "
                               "last_error = ? WHERE id = ?",
                               ("pending" if next_at is not None else "expired", next_at or 0, error, delivery_id))

    def deliveries(self, prompt_id: str) -> list[dict]:
        rows = self._read("SELECT id, event, url, state, attempts, created_at, next_at, delivered_at, last_error "
                          "FROM webhook_deliveries WHERE prompt_id = ? ORDER BY created_at, id", (prompt_id,))
        keys = ("id", "event", "url", "state", "attempts", "created_at", "next_at", "delivered_at", "last_error")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def events(self, prompt_id: str) -> list | None:
        rows = self._read("SELECT events FROM job_events WHERE prompt_id = ?", (prompt_id,))
        return json.loads(rows[0][0]) if rows else None

    def close(self) -> None:
        with self._lock:
            if getattr(self, "_connection", None) is not None:
                self._connection.close()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None
