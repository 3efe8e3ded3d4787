"""The job store and the queue face over it: order, state changes, attempts, crash recovery, history caps,
idempotency, and that everything survives reopening the file."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from comfy_execution.prompt_queue import MAX_DEATHS, ExecutionStatus, PromptQueue
from comfy_execution.store import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    RUNNING,
    DuplicateJobError,
    SQLiteJobStore,
)


def item(prompt_id: str, number: float = 0, **extra: object) -> tuple:
    return (number, prompt_id, {"1": {"class_type": "X", "inputs": {}}}, dict(extra), ["1"])


def entry(prompt_id: str, status_str: str = "success", event: str = "execution_success") -> dict:
    return {"prompt": list(item(prompt_id)), "outputs": {"1": {"value": [prompt_id]}},
            "status": {"status_str": status_str, "completed": status_str == "success",
                       "messages": [[event, {"prompt_id": prompt_id}]]}, "meta": {}}


@pytest.fixture
def store(tmp_path):
    opened = SQLiteJobStore(str(tmp_path / "kiln.db"))
    yield opened
    opened.close()


class FakeServer:
    def __init__(self) -> None:
        self.number = 0
        self.announcements = 0

    def queue_updated(self) -> None:
        self.announcements += 1


def success() -> ExecutionStatus:
    return ExecutionStatus("success", True, [("execution_success", {})])


# ---- the store ----------------------------------------------------------------------------------------------------

def test_claim_takes_pending_jobs_by_number_then_prompt_id(store):
    for prompt_id, number in (("c", 2), ("b", 1), ("a", 1), ("front", -5)):
        store.put(item(prompt_id, number))
    claimed = [store.claim().prompt_id for _ in range(4)]
    assert claimed == ["front", "a", "b", "c"]
    assert store.claim() is None


def test_claim_by_id_takes_that_pending_job_only(store):
    for prompt_id, number in (("a", 1), ("b", 2)):
        store.put(item(prompt_id, number))
    assert store.claim("b").prompt_id == "b"
    assert store.get("b").state == RUNNING and store.get("b").attempts == 1
    assert store.claim("b") is None  # running, not pending
    assert store.claim("unknown") is None
    assert store.claim().prompt_id == "a"


def test_put_keeps_the_item_exactly_and_claim_counts_an_attempt(store):
    store.put(item("a", 7, client_id="me"))
    job = store.get("a")
    assert job.state == PENDING and job.attempts == 0 and job.started_at is None
    assert job.item == item("a", 7, client_id="me")
    assert isinstance(job.number, int)
    store.put(item("b", 7.5))
    assert isinstance(store.get("b").number, float)

    claimed = store.claim()
    assert claimed.prompt_id == "a" and claimed.state == RUNNING and claimed.attempts == 1
    assert claimed.started_at >= claimed.queued_at


def test_complete_fail_and_cancel_record_state_history_and_finish_time(store):
    for prompt_id in ("done", "broken", "stopped", "waiting"):
        store.put(item(prompt_id))
    for _ in range(3):
        store.claim()
    assert store.complete("done", entry("done"))
    assert store.fail("broken", entry("broken", "error", "execution_error"))
    assert store.cancel("stopped", entry("stopped", "error", "execution_interrupted"))
    assert store.cancel("waiting")

    states = {job.prompt_id: job.state for job in store.list()}
    assert states == {"done": COMPLETED, "broken": FAILED, "stopped": CANCELLED, "waiting": CANCELLED}
    assert store.get("done").history == entry("done")
    assert store.get("waiting").history is None
    assert all(job.finished_at is not None for job in store.list())
    assert [job.prompt_id for job in store.list(with_history=True)] == ["done", "broken", "stopped"]
    assert not store.cancel("done"), "a finished job cannot be cancelled"
    assert not store.complete("unknown", entry("unknown"))


def test_finished_jobs_lose_their_api_secrets(store):
    store.put(item("a", auth_token_comfy_org="secret", client_id="me"))
    assert store.get("a").extra_data["auth_token_comfy_org"] == "secret", "a pending job needs its token"
    store.claim()
    store.complete("a", entry("a"))
    assert store.get("a").extra_data == {"client_id": "me"}


def test_a_pending_or_running_prompt_id_cannot_be_queued_twice_but_a_finished_one_can(store):
    store.put(item("a"))
    with pytest.raises(DuplicateJobError):
        store.put(item("a"))
    store.claim()
    with pytest.raises(DuplicateJobError):
        store.put(item("a"))
    store.complete("a", entry("a"))
    store.put(item("a", 3))
    again = store.get("a")
    assert again.state == PENDING and again.number == 3 and again.history is None


def test_idempotency_key_returns_the_first_job_and_queues_nothing(store):
    first = store.put(item("a"), answer={"prompt_id": "a", "number": 0, "node_errors": {}}, idempotency_key="k1")
    again = store.put(item("b"), answer={"prompt_id": "b"}, idempotency_key="k1")
    assert again.prompt_id == "a" and again.answer == first.answer
    assert store.get("b") is None
    assert store.find("k1").prompt_id == "a" and store.find("k2") is None
    assert store.count([PENDING]) == 1


def test_release_puts_a_running_job_back_and_counts_a_death_only_for_a_crash(store):
    store.put(item("a"))
    store.claim()
    released = store.release("a")
    assert released.state == PENDING and released.deaths == 0 and released.attempts == 1
    store.claim()
    crashed = store.release("a", crashed=True)
    assert crashed.deaths == 1 and crashed.attempts == 2
    assert store.release("a") is None, "only a running job can be released"


def test_queue_position_counts_the_pending_jobs_ahead(store):
    for prompt_id, number in (("a", 1), ("b", 2), ("c", 3)):
        store.put(item(prompt_id, number))
    assert [store.queue_position(prompt_id) for prompt_id in "abc"] == [0, 1, 2]
    store.claim()
    assert store.queue_position("a") is None and store.queue_position("c") == 1


def test_trim_drops_the_oldest_finished_jobs_by_count_and_by_age(store):
    for index in range(5):
        prompt_id = f"j{index}"
        store.put(item(prompt_id, index))
        store.claim()
        store.complete(prompt_id, entry(prompt_id))
    store.put(item("pending", 99))
    dropped = store.trim(max_items=3)
    assert [job.prompt_id for job in dropped] == ["j0", "j1"]
    assert [job.prompt_id for job in store.list(with_history=True)] == ["j2", "j3", "j4"]
    assert store.get("pending").state == PENDING, "the cap never touches unfinished jobs"

    time.sleep(0.02)
    assert [job.prompt_id for job in store.trim(max_items=None, max_age_ms=10)] == ["j2", "j3", "j4"]
    assert store.count() == 1


def test_forget_deletes_history_entries_but_keeps_jobs_cancelled_before_they_ran(store):
    for prompt_id in ("a", "b"):
        store.put(item(prompt_id))
        store.claim()
        store.complete(prompt_id, entry(prompt_id))
    store.put(item("c"))
    store.cancel("c")
    assert store.forget(["a"]) == 1 and store.get("a") is None
    assert store.forget() == 1
    assert [job.prompt_id for job in store.list()] == ["c"]


def test_everything_survives_reopening_the_file(tmp_path):
    path = str(tmp_path / "sub" / "kiln.db")
    first = SQLiteJobStore(path)
    first.put(item("a", 1), idempotency_key="k")
    first.put(item("b", 2))
    first.claim()
    first.complete("a", entry("a"))
    first.close()

    second = SQLiteJobStore(path)
    assert second.get("a").history == entry("a")
    assert second.get("b").state == PENDING
    assert second.find("k").prompt_id == "a"
    assert second.next_number() == 3
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second.close()


def test_the_store_is_safe_to_use_from_several_threads(store):
    def submit(offset: int) -> None:
        for index in range(50):
            store.put(item(f"t{offset}-{index}", offset * 100 + index))

    threads = [threading.Thread(target=submit, args=(offset,)) for offset in range(4)]
    claimed = []
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads) or store.count([PENDING]):
        job = store.claim()
        if job is not None:
            claimed.append(job.prompt_id)
            store.complete(job.prompt_id, entry(job.prompt_id))
    assert len(claimed) == len(set(claimed)) == 200


# ---- the queue face over it -----------------------------------------------------------------------------------

def test_a_job_running_when_the_process_died_is_queued_again_once_then_failed(tmp_path):
    path = str(tmp_path / "kiln.db")
    queue = PromptQueue(FakeServer(), SQLiteJobStore(path))
    queue.put(item("victim", 0))
    queue.put(item("next", 1))
    assert queue.get(timeout=0)[0][1] == "victim"
    queue.store.close()  # the process dies: no task_done

    restarted = PromptQueue(FakeServer(), SQLiteJobStore(path))
    job = restarted.store.get("victim")
    assert job.state == PENDING and job.attempts == 1 and job.deaths == 1
    assert restarted.get(timeout=0)[0][1] == "victim", "a resumed job keeps its place in the queue"
    assert restarted.store.get("victim").attempts == 2
    restarted.store.close()  # and dies again

    assert MAX_DEATHS == 2
    third = PromptQueue(FakeServer(), SQLiteJobStore(path))
    job = third.store.get("victim")
    assert job.state == FAILED and job.attempts == 2
    history = third.get_history("victim")["victim"]
    assert history["status"]["status_str"] == "error" and history["status"]["completed"] is False
    event, error = history["status"]["messages"][-1]
    assert event == "execution_error" and error["exception_type"] == "ProcessDied"
    assert "stopped unexpectedly" in error["exception_message"]
    assert third.get(timeout=0)[0][1] == "next"


def test_a_job_put_back_by_a_graceful_shutdown_does_not_count_as_a_death(tmp_path):
    path = str(tmp_path / "kiln.db")
    queue = PromptQueue(FakeServer(), SQLiteJobStore(path))
    queue.put(item("a"))
    _, task_id = queue.get(timeout=0)
    assert queue.begin_shutdown() == ["a"]
    assert queue.get(timeout=0) is None, "a draining queue gives out no more prompts"
    queue.task_done(task_id, {"outputs": {}, "meta": {}}, ExecutionStatus(
        "error", False, [("execution_interrupted", {"prompt_id": "a"})]))
    assert queue.wait_until_idle(0)
    queue.close()

    restarted = PromptQueue(FakeServer(), SQLiteJobStore(path))
    job = restarted.store.get("a")
    assert job.state == PENDING and job.deaths == 0 and job.attempts == 1
    assert restarted.get_history() == {}


def test_numbers_continue_after_a_restart(tmp_path):
    path = str(tmp_path / "kiln.db")
    queue = PromptQueue(FakeServer(), SQLiteJobStore(path))
    queue.put(item("a", 41))
    queue.store.close()
    server = FakeServer()
    PromptQueue(server, SQLiteJobStore(path))
    assert server.number == 42


def test_task_done_classifies_the_history_entry_and_applies_the_history_cap():
    queue = PromptQueue(FakeServer(), history_max_items=2)
    outcomes = {
        "ok": success(),
        "err": ExecutionStatus("error", False, [("execution_error", {})]),
        "stop": ExecutionStatus("error", False, [("execution_interrupted", {})]),
    }
    for index, prompt_id in enumerate(outcomes):
        queue.put(item(prompt_id, index))
    for _ in outcomes:
        (_, prompt_id, *_), task_id = queue.get(timeout=0)
        queue.task_done(task_id, {"outputs": {}, "meta": {}}, outcomes[prompt_id])
    assert list(queue.get_history()) == ["err", "stop"]
    assert [queue.store.get(prompt_id).state for prompt_id in ("err", "stop")] == [FAILED, CANCELLED]
    assert queue.store.get("ok") is None


def test_history_paging_matches_comfyui():
    queue = PromptQueue(FakeServer())
    ids = [f"p{index}" for index in range(4)]
    for index, prompt_id in enumerate(ids):
        queue.put(item(prompt_id, index))
        _, task_id = queue.get(timeout=0)
        queue.task_done(task_id, {"outputs": {}, "meta": {}}, success())
    assert list(queue.get_history()) == ids
    assert list(queue.get_history(max_items=2)) == ids[2:]
    assert list(queue.get_history(max_items=2, offset=1)) == ids[1:3]
    assert list(queue.get_history(offset=3)) == ids[3:]
    assert queue.get_history(offset=10) == {}
    assert list(queue.get_history(max_items=0, offset=0)) == ids[:1]


def test_history_cap_deletes_output_files_only_when_asked(tmp_path, monkeypatch):
    import folder_paths

    monkeypatch.setattr(folder_paths, "output_directory", str(tmp_path))
    (tmp_path / "keep.png").write_bytes(b"x")
    (tmp_path / "drop.png").write_bytes(b"x")
    outside = tmp_path.parent / "outside.png"
    outside.write_bytes(b"x")

    def run(queue: PromptQueue, prompt_id: str, filename: str) -> None:
        queue.put(item(prompt_id))
        _, task_id = queue.get(timeout=0)
        images = [{"filename": filename, "subfolder": "", "type": "output"},
                  {"filename": "../outside.png", "subfolder": "", "type": "output"}]
        queue.task_done(task_id, {"outputs": {"1": {"images": images}}, "meta": {}}, success())

    keeping = PromptQueue(FakeServer(), history_max_items=0)
    run(keeping, "a", "keep.png")
    assert (tmp_path / "keep.png").exists()

    deleting = PromptQueue(FakeServer(), history_max_items=0, delete_outputs=True)
    run(deleting, "b", "drop.png")
    assert not (tmp_path / "drop.png").exists()
    assert outside.exists(), "never a file outside the output folder"


def test_finish_callbacks_run_once_when_the_job_ends_and_not_for_finished_jobs():
    queue = PromptQueue(FakeServer())
    calls = []
    queue.put(item("a"))
    queue.put(item("b", 1))
    assert queue.on_job_finished("a", lambda: calls.append("a"))
    assert queue.on_job_finished("b", lambda: calls.append("b"))
    assert not queue.on_job_finished("unknown", lambda: calls.append("x"))
    _, task_id = queue.get(timeout=0)
    queue.task_done(task_id, {"outputs": {}, "meta": {}}, success())
    assert queue.cancel_pending("b")
    assert calls == ["a", "b"]
    assert not queue.on_job_finished("a", lambda: calls.append("again"))
