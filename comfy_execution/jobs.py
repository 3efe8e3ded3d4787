"""Jobs as the web frontend's queue panel and the job API see them (`/api/jobs`): one record per prompt,
whatever its state, read from the job store."""

from __future__ import annotations

from typing import Any

from comfy_execution.prompt_queue import PromptQueue
from comfy_execution.store import JOB_STATES, PENDING, RUNNING, SENSITIVE_EXTRA_DATA_KEYS, Job

JOB_STATUSES = JOB_STATES


def _count_outputs(outputs: dict) -> tuple[int, int, dict | None]:
    """(outputs_count, previewable_outputs_count, first previewable output) of a history entry's outputs."""
    count = previewable = 0
    preview = None
    for node_id, output in (outputs or {}).items():
        for kind, items in (output or {}).items():
            if not isinstance(items, list):
                continue
            count += len(items)
            if kind in ("images", "gifs", "video", "audio"):
                previewable += len(items)
                if preview is None and items and isinstance(items[0], dict):
                    preview = {**items[0], "nodeId": node_id, "mediaType": kind}
    return count, previewable, preview


def _error_of(entry: dict) -> dict | None:
    """The execution_error message of a history entry. An error of the engine itself names no node; its node_id and
    node_type are given as "" then, because the frontend rejects a job list whose errors lack them."""
    for event, data in (entry.get("status") or {}).get("messages") or []:
        if event == "execution_error" and isinstance(data, dict):
            return {**data, "node_id": str(data.get("node_id") or ""), "node_type": str(data.get("node_type") or "")}
    return None


def job_record(job: Job) -> dict[str, Any]:
    """The summary of one job, as `/api/jobs` lists it. Times are epoch milliseconds; `create_time`,
    `execution_start_time` and `execution_end_time` are the frontend's names for `queued_at`, `started_at` and
    `finished_at`."""
    entry = job.history
    outputs = (entry or {}).get("outputs") or {}
    count, previewable, preview = _count_outputs(outputs)
    extra_data = entry["prompt"][3] if entry and len(entry.get("prompt") or ()) > 3 else job.extra_data
    workflow = (extra_data.get("extra_pnginfo") or {}).get("workflow") if isinstance(extra_data, dict) else None
    return {
        "id": job.prompt_id,
        "status": job.state,
        "priority": job.number,
        "create_time": job.queued_at,
        "execution_start_time": job.started_at,
        "execution_end_time": job.finished_at,
        "queued_at": job.queued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "attempts": job.attempts,
        "outputs_count": count,
        "previewable_outputs_count": previewable,
        "preview_output": preview,
        "execution_error": _error_of(entry) if entry else None,
        "workflow_id": workflow.get("id") if isinstance(workflow, dict) else None,
    }


def all_jobs(queue: PromptQueue) -> list[dict[str, Any]]:
    """Every known job, running first, then pending in queue order, then finished ones newest first."""
    jobs = queue.store.list()
    running = [job_record(job) for job in jobs if job.state == RUNNING]
    pending = [job_record(job) for job in jobs if job.state == PENDING]
    finished = [job_record(job) for job in reversed(jobs) if job.state not in (RUNNING, PENDING)]
    return running + pending + finished


def get_job(queue: PromptQueue, prompt_id: str) -> dict[str, Any] | None:
    """One job with its details (queue position, outputs, the history status), or None if the id is unknown."""
    job = queue.store.get(prompt_id)
    if job is None:
        return None
    record = job_record(job)
    if job.state == PENDING:
        record["queue_position"] = queue.store.queue_position(prompt_id)
    # What the queue panel's "load workflow" reads: the API prompt, and the editor graph in extra_data.
    extra_data = {key: value for key, value in job.extra_data.items() if key not in SENSITIVE_EXTRA_DATA_KEYS}
    record["workflow"] = {"prompt": job.prompt, "extra_data": extra_data}
    deliveries = getattr(queue.store, "deliveries", None)
    if deliveries is not None:
        record["webhooks"] = deliveries(prompt_id)
    if job.history is not None:
        record["outputs"] = job.history.get("outputs", {})
        record["execution_status"] = job.history.get("status")
        record["execution_meta"] = job.history.get("meta", {})
        record["update_time"] = job.finished_at
    return record
