"""Jobs as the web frontend's queue panel sees them (`/api/jobs`): one record per prompt, whatever its state,
derived from the queue, the running set and the history."""

from __future__ import annotations

from typing import Any

from comfy_execution.prompt_queue import PromptQueue

JOB_STATUSES = ("pending", "in_progress", "completed", "failed", "cancelled")


def _history_status(entry: dict) -> str:
    status = entry.get("status") or {}
    if status.get("status_str") == "success":
        return "completed"
    messages = status.get("messages") or []
    if any(message[0] == "execution_interrupted" for message in messages):
        return "cancelled"
    return "failed"


def _count_outputs(outputs: dict) -> tuple[int, int, dict | None]:
    """(outputs_count, previewable_outputs_count, first previewable output) of a history entry's outputs."""
    count = previewable = 0
    preview = None
    for node_id, output in (outputs or {}).items():
        for kind, items in output.items():
            if not isinstance(items, list):
                continue
            count += len(items)
            if kind in ("images", "gifs", "video", "audio"):
                previewable += len(items)
                if preview is None and items and isinstance(items[0], dict):
                    preview = {**items[0], "nodeId": node_id, "mediaType": kind}
    return count, previewable, preview


def _error_of(entry: dict) -> dict | None:
    for event, data in (entry.get("status") or {}).get("messages") or []:
        if event == "execution_error":
            return data
    return None


def _job(queue: PromptQueue, prompt_id: str, status: str, item: tuple | list, entry: dict | None) -> dict[str, Any]:
    times = queue.job_times(prompt_id)
    outputs = (entry or {}).get("outputs") or {}
    count, previewable, preview = _count_outputs(outputs)
    extra_data = item[3] if len(item) > 3 else {}
    workflow = (extra_data.get("extra_pnginfo") or {}).get("workflow") if isinstance(extra_data, dict) else None
    job: dict[str, Any] = {
        "id": prompt_id,
        "status": status,
        "priority": item[0],
        "create_time": times.get("create_time"),
        "execution_start_time": times.get("execution_start_time"),
        "execution_end_time": times.get("execution_end_time"),
        "outputs_count": count,
        "previewable_outputs_count": previewable,
        "preview_output": preview,
        "execution_error": _error_of(entry) if entry else None,
        "workflow_id": workflow.get("id") if isinstance(workflow, dict) else None,
    }
    return job


def all_jobs(queue: PromptQueue) -> list[dict[str, Any]]:
    """Every known job, running first, then pending in queue order, then finished ones newest first."""
    running, pending = queue.get_current_queue()
    history = queue.get_history()
    jobs = [_job(queue, item[1], "in_progress", item, None) for item in running]
    jobs += [_job(queue, item[1], "pending", item, None) for item in sorted(pending)]
    finished = [_job(queue, prompt_id, _history_status(entry), entry["prompt"], entry)
                for prompt_id, entry in history.items()]
    with queue.mutex:
        cancelled = dict(queue.cancelled)
    finished += [_job(queue, prompt_id, "cancelled", record["prompt"], None)
                 for prompt_id, record in cancelled.items() if prompt_id not in history]
    finished.sort(key=lambda job: job["execution_end_time"] or job["create_time"] or 0, reverse=True)
    return jobs + finished


def get_job(queue: PromptQueue, prompt_id: str) -> dict[str, Any] | None:
    """One job with its details (outputs, the stored prompt), or None if the id is unknown."""
    running, pending = queue.get_current_queue()
    for status, items in (("in_progress", running), ("pending", pending)):
        for item in items:
            if item[1] == prompt_id:
                job = _job(queue, prompt_id, status, item, None)
                if status == "pending":
                    job["queue_position"] = sorted(pending).index(item)
                return job
    history = queue.get_history(prompt_id)
    if prompt_id in history:
        entry = history[prompt_id]
        job = _job(queue, prompt_id, _history_status(entry), entry["prompt"], entry)
        job["outputs"] = entry.get("outputs", {})
        job["execution_status"] = entry.get("status")
        job["execution_meta"] = entry.get("meta", {})
        job["update_time"] = job["execution_end_time"]
        return job
    with queue.mutex:
        record = queue.cancelled.get(prompt_id)
    if record is not None:
        return _job(queue, prompt_id, "cancelled", record["prompt"], None)
    return None
