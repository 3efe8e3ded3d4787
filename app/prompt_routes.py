"""Routes that queue, inspect and stop work: /prompt, /queue, /history, /interrupt, /free and /api/jobs."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

import execution
from app.errors import json_error
from app.request_limits import JsonBodyError, parse_json_body
from app.workflow_routes import add_workflow_routes, prompt_from_body
from comfy.cli_args import args
from comfy_execution import metrics, webhooks
from comfy_execution.jobs import JOB_STATUSES, all_jobs, get_job
from comfy_execution.store import PENDING, DuplicateJobError, Job, StoreWriteError

if TYPE_CHECKING:
    from server import PromptServer


async def read_json_object(request: web.Request, *, allow_empty: bool = False) -> dict | web.Response:
    """The request's JSON object body, or a 400 JSON error response explaining what is wrong with it."""
    body = await request.read()
    if not body.strip() and allow_empty:
        return {}
    try:
        data = parse_json_body(body)
    except JsonBodyError as ex:
        message = "Request body is nested too deeply" if ex.error_type == "json_too_deep" else \
            "Request body is not valid JSON"
        return json_error(400, ex.error_type, message, str(ex))
    if not isinstance(data, dict):
        return json_error(400, "invalid_json", "Request body must be a JSON object",
                          f"Got a JSON {type(data).__name__}.")
    return data


def _query_int(request: web.Request, name: str) -> int | None:
    value = request.rel_url.query.get(name)
    if value is None or value == "":
        return None
    return int(value)


def add_prompt_routes(routes: web.RouteTableDef, server: PromptServer) -> None:
    add_workflow_routes(routes, read_json_object)

    @routes.get("/prompt")
    async def get_prompt(request: web.Request) -> web.Response:
        return web.json_response(server.get_queue_info())

    @routes.post("/prompt")
    async def post_prompt(request: web.Request) -> web.Response:
        logging.info("got prompt")
        queue = server.prompt_queue
        if queue.draining:
            return json_error(503, "shutting_down", "The server is shutting down",
                              "It takes no new prompts now; queue this one again once it is back.",
                              headers={"Retry-After": "10"})
        try:
            wait_seconds = _wait_seconds(request)
        except ValueError as ex:
            return json_error(400, "invalid_query", "wait must be a number of seconds, 0 or more", str(ex))
        idempotency_key = request.headers.get("Idempotency-Key") or None
        if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            return json_error(400, "invalid_idempotency_key", "Idempotency-Key is too long",
                              f"At most {MAX_IDEMPOTENCY_KEY_LENGTH} characters; a UUID is a good key.")
        json_data = await read_json_object(request)
        if isinstance(json_data, web.Response):
            return json_data
        queued = await queue_prompt_body(server, json_data, idempotency_key)
        if isinstance(queued, web.Response):
            return queued
        job, replayed = queued
        return await _answer(queue, job, wait_seconds, replayed=replayed)

    @routes.get("/queue")
    async def get_queue(request: web.Request) -> web.Response:
        running, pending = server.prompt_queue.get_current_queue_volatile()
        return web.json_response({"queue_running": running, "queue_pending": pending})

    @routes.post("/queue")
    async def post_queue(request: web.Request) -> web.Response:
        json_data = await read_json_object(request)
        if isinstance(json_data, web.Response):
            return json_data
        if json_data.get("clear"):
            server.prompt_queue.wipe_queue()
        for prompt_id in _id_list(json_data.get("delete")):
            server.prompt_queue.delete_queue_item(lambda item, prompt_id=prompt_id: item[1] == prompt_id)
        return web.Response(status=200)

    @routes.get("/history")
    async def get_history(request: web.Request) -> web.Response:
        try:
            max_items = _query_int(request, "max_items")
            offset = _query_int(request, "offset")
        except ValueError as ex:
            return json_error(400, "invalid_query", "max_items and offset must be integers", str(ex))
        history = server.prompt_queue.get_history(max_items=max_items, offset=-1 if offset is None else offset)
        return web.json_response(history)

    @routes.get("/history/{prompt_id}")
    async def get_history_item(request: web.Request) -> web.Response:
        return web.json_response(server.prompt_queue.get_history(prompt_id=request.match_info["prompt_id"]))

    @routes.post("/history")
    async def post_history(request: web.Request) -> web.Response:
        json_data = await read_json_object(request)
        if isinstance(json_data, web.Response):
            return json_data
        if json_data.get("clear"):
            server.prompt_queue.wipe_history()
        for prompt_id in _id_list(json_data.get("delete")):
            server.prompt_queue.delete_history_item(prompt_id)
        return web.Response(status=200)

    @routes.post("/interrupt")
    async def post_interrupt(request: web.Request) -> web.Response:
        json_data = await read_json_object(request, allow_empty=True)
        prompt_id = json_data.get("prompt_id") if isinstance(json_data, dict) else None
        if prompt_id is None:
            server.prompt_queue.interrupt()
        elif prompt_id in server.prompt_queue.running_prompt_ids():
            logging.info("Interrupting prompt %s", prompt_id)
            server.prompt_queue.interrupt(prompt_id)
        else:
            logging.info("Prompt %s is not currently running, skipping interrupt", prompt_id)
        return web.Response(status=200)

    @routes.post("/free")
    async def post_free(request: web.Request) -> web.Response:
        json_data = await read_json_object(request, allow_empty=True)
        if isinstance(json_data, web.Response):
            return json_data
        if json_data.get("unload_models"):
            server.prompt_queue.set_flag("unload_models", True)
        if json_data.get("free_memory"):
            server.prompt_queue.set_flag("free_memory", True)
        return web.Response(status=200)

    @routes.get("/jobs")
    async def list_jobs(request: web.Request) -> web.Response:
        query = request.rel_url.query
        statuses = [status for status in query.get("status", "").replace("|", ",").split(",") if status]
        unknown = [status for status in statuses if status not in JOB_STATUSES]
        if unknown:
            return json_error(400, "invalid_query", "Unknown job status",
                              f"{', '.join(unknown)}; expected any of {', '.join(JOB_STATUSES)}")
        try:
            limit = _query_int(request, "limit")
            offset = _query_int(request, "offset") or 0
        except ValueError as ex:
            return json_error(400, "invalid_query", "limit and offset must be integers", str(ex))
        if (limit is not None and limit < 0) or offset < 0:
            return json_error(400, "invalid_query", "limit and offset must not be negative", "")
        jobs = [job for job in all_jobs(server.prompt_queue) if not statuses or job["status"] in statuses]
        page = jobs[offset:] if limit is None else jobs[offset:offset + limit]
        return web.json_response({"jobs": page, "pagination": {
            "offset": offset, "limit": limit, "total": len(jobs), "has_more": offset + len(page) < len(jobs)}})

    @routes.get("/jobs/{job_id}")
    async def get_one_job(request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        job = get_job(server.prompt_queue, job_id)
        if job is None:
            return json_error(404, "job_not_found", "Job not found", f"No job with id {job_id}")
        return web.json_response(job)

    @routes.post("/jobs/{job_id}/cancel")
    async def cancel_job(request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        return _cancel(server, job_id)

    @routes.post("/jobs/cancel")
    async def cancel_jobs(request: web.Request) -> web.Response:
        json_data = await read_json_object(request)
        if isinstance(json_data, web.Response):
            return json_data
        job_ids = _id_list(json_data.get("job_ids", json_data.get("ids")))
        return web.json_response({"jobs": [_cancel_one(server, job_id) for job_id in job_ids]})


MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_WAIT_SECONDS = 3600.0


def _wait_seconds(request: web.Request) -> float | None:
    """`?wait=SECONDS` of POST /prompt (None without it), at most MAX_WAIT_SECONDS."""
    value = request.rel_url.query.get("wait")
    if value is None:
        return None
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"Got {value!r}.")
    return min(seconds, MAX_WAIT_SECONDS)


def _retry_after_seconds() -> int:
    """What a refused client should wait: about one prompt's run time, between 1 and 60 seconds."""
    mean = metrics.execution_seconds.mean()
    return max(1, min(60, math.ceil(mean or 1)))


async def wait_until_finished(queue: Any, prompt_id: str, seconds: float) -> bool:
    """Whether the job reaches a final state within `seconds`."""
    loop = asyncio.get_running_loop()
    finished = loop.create_future()

    def on_finished() -> None:
        loop.call_soon_threadsafe(lambda: finished.done() or finished.set_result(None))

    if not queue.on_job_finished(prompt_id, on_finished):
        return True
    try:
        await asyncio.wait_for(finished, seconds)
        return True
    except asyncio.TimeoutError:
        return False
    finally:
        queue.remove_job_callback(prompt_id, on_finished)


async def queue_prompt_body(server: PromptServer, json_data: dict, idempotency_key: str | None
                            ) -> tuple[Job, bool] | web.Response:
    """Queue the prompt of a `/prompt` body (API format, or a UI-format `workflow`) as POST /prompt does: limits,
    `onprompt` handlers, validation, the durable put. (the job, whether it is an earlier job replayed for the same
    Idempotency-Key), or the error response."""
    queue = server.prompt_queue
    if "prompt" not in json_data:  # a UI-format workflow in place of the API prompt
        prompt = await prompt_from_body(json_data)
        if isinstance(prompt, web.Response):
            return prompt
        if prompt is not None:
            json_data["prompt"] = prompt
    if idempotency_key is not None:
        earlier = queue.store.find(idempotency_key)
        if earlier is not None:
            return earlier, True
    if args.max_queue > 0 and queue.store.count([PENDING]) >= args.max_queue:
        return json_error(429, "queue_full", "The queue is full",
                          f"{args.max_queue} prompts are waiting (--max-queue); retry later.",
                          headers={"Retry-After": str(_retry_after_seconds())})
    json_data = server.trigger_on_prompt(json_data)

    if "number" in json_data:
        try:
            number: float = float(json_data["number"])
        except (TypeError, ValueError):
            return json_error(400, "invalid_number", "number must be a number", repr(json_data["number"]))
        if not math.isfinite(number):
            return json_error(400, "invalid_number", "number must be a finite number", repr(json_data["number"]))
    else:
        number = server.number
        if json_data.get("front"):
            number = -number
        server.number += 1

    if "prompt" not in json_data:
        return json_error(400, "no_prompt", "No prompt provided", "No prompt provided")
    prompt = json_data["prompt"]
    if not isinstance(prompt, dict):
        return json_error(400, "invalid_prompt", "The prompt must be a JSON object of nodes",
                          f"Got a JSON {type(prompt).__name__}.")
    partial_targets = json_data.get("partial_execution_targets")
    if partial_targets is not None and (not isinstance(partial_targets, list)
                                        or not all(isinstance(target, str) for target in partial_targets)):
        return json_error(400, "invalid_prompt", "partial_execution_targets must be a list of node ids",
                          repr(partial_targets))
    extra_data = json_data.get("extra_data", {})
    if not isinstance(extra_data, dict):
        return json_error(400, "invalid_prompt", "extra_data must be a JSON object", repr(extra_data))
    if json_data.get("webhook") is not None:
        try:
            hook = webhooks.parse_webhook(json_data["webhook"])
            await asyncio.to_thread(webhooks.check_address, hook.url, args.webhook_allow_private)
        except webhooks.WebhookRefused as refused:
            return json_error(400, "invalid_webhook", "The webhook cannot be used", str(refused))
        extra_data[webhooks.EXTRA_DATA_KEY] = {"url": hook.url, "events": list(hook.events)}
    client_id = json_data.get("client_id", extra_data.get("client_id"))
    if client_id is not None and not isinstance(client_id, str):
        return json_error(400, "invalid_prompt", "client_id must be a string (the clientId of your /ws)",
                          repr(client_id)[:200])
    prompt_id = str(json_data.get("prompt_id", uuid.uuid4()))

    valid, error, outputs_to_execute, node_errors = await execution.validate_prompt(prompt_id, prompt,
                                                                                  partial_targets)
    if "client_id" in json_data:
        extra_data["client_id"] = json_data["client_id"]
    if not valid:
        logging.warning("invalid prompt: %s", error["message"] if error else error)
        return web.json_response({"error": error, "node_errors": node_errors}, status=400)
    answer = {"prompt_id": prompt_id, "number": number, "node_errors": node_errors}
    try:
        # Committing may wait for the disk (--store-sync full): do it off the event loop.
        job = await asyncio.to_thread(queue.put, (number, prompt_id, prompt, extra_data, outputs_to_execute),
                                      answer=answer, idempotency_key=idempotency_key)
    except DuplicateJobError as ex:
        return json_error(400, "duplicate_prompt_id", "This prompt_id is already queued", str(ex))
    except StoreWriteError as ex:
        logging.error("%s", ex)
        return json_error(503, "store_unavailable", "The job store cannot take new prompts now", str(ex),
                          headers={"Retry-After": "10"})
    # A request racing another with the same Idempotency-Key gets the other's job back from put.
    return job, job.answer != answer


async def _answer(queue: Any, job: Job, wait_seconds: float | None, *, replayed: bool) -> web.Response:
    """POST /prompt's answer for a queued job: ComfyUI's `{prompt_id, number, node_errors}`; with `?wait=`, the
    job's history (`{prompt_id: entry}`, as /history/{id}) if it finished in time, else 202 and the job's URL."""
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    if wait_seconds is None:
        answer = job.answer or {"prompt_id": job.prompt_id, "number": job.number, "node_errors": {}}
        return web.json_response(answer, headers=headers)
    if await wait_until_finished(queue, job.prompt_id, wait_seconds):
        return web.json_response(queue.get_history(prompt_id=job.prompt_id), headers=headers)
    job_url = f"/api/jobs/{job.prompt_id}"
    return web.json_response({"prompt_id": job.prompt_id, "number": job.number, "job_url": job_url}, status=202,
                             headers={**(headers or {}), "Location": job_url})


def _id_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(item) for item in value]


def _cancel_one(server: PromptServer, job_id: str) -> dict[str, Any] | None:
    if job_id in server.prompt_queue.running_prompt_ids():
        server.prompt_queue.interrupt(job_id)  # it ends interrupted, which the job API reports as cancelled
    else:
        server.prompt_queue.cancel_pending(job_id)
    return get_job(server.prompt_queue, job_id)


def _cancel(server: PromptServer, job_id: str) -> web.Response:
    if get_job(server.prompt_queue, job_id) is None:
        return json_error(404, "job_not_found", "Job not found", f"No job with id {job_id}")
    return web.json_response(_cancel_one(server, job_id))
