"""GET /api/jobs/{id}/events: a job's events as Server-Sent Events, for clients that cannot hold a WebSocket.

Each event is `id: N`, `event: <type>` (ComfyUI's WebSocket message types: execution_start, executing, progress,
executed, execution_error, ...) and `data: <JSON>`; the last one is `event: end` with the job's final state, its
outputs and their files, and the stream closes after it. A client that reconnects with `Last-Event-ID: N` (or
`?last_event_id=N`) gets the events after N, then the live ones. Events are kept while the job runs and, once it
ended, in the job store for as long as its history is kept (comfy_execution/job_events.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from app.errors import json_error
from app.generate_routes import output_files
from comfy_execution.store import FINISHED_STATES

if TYPE_CHECKING:
    from server import PromptServer

KEEP_ALIVE_SECONDS = 15.0


def _last_event_id(request: web.Request) -> int:
    raw = request.headers.get("Last-Event-ID") or request.rel_url.query.get("last_event_id") or "0"
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


def _frame(event_id: int, event: str, data: Any) -> bytes:
    text = json.dumps(data, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {event}\ndata: {text}\n\n".encode()


def end_event(job: Any) -> dict:
    """What the `end` event says: the job's state, and its outputs and their files once it has a history."""
    history = job.history or {}
    return {"prompt_id": job.prompt_id, "state": job.state,
            "status": (history.get("status") or {}).get("status_str"),
            "outputs": history.get("outputs", {}), "files": output_files(history) if history else []}


def add_job_event_routes(routes: web.RouteTableDef, server: PromptServer) -> None:
    @routes.get("/jobs/{job_id}/events")
    async def get_job_events(request: web.Request) -> web.StreamResponse:
        """The job's events as Server-Sent Events, from after `Last-Event-ID` to its end."""
        queue, log = server.prompt_queue, server.job_events
        job_id = request.match_info["job_id"]
        if await asyncio.to_thread(queue.store.get, job_id) is None:
            return json_error(404, "job_not_found", "Job not found", f"No job with id {job_id}")
        try:
            last = _last_event_id(request)
        except ValueError as error:
            return json_error(400, "invalid_last_event_id", "Last-Event-ID must be an event id (0 or more)",
                              str(error))

        loop = asyncio.get_running_loop()
        live: asyncio.Queue = asyncio.Queue()
        finished = loop.create_future()

        def on_event(entry: tuple) -> None:
            loop.call_soon_threadsafe(live.put_nowait, entry)

        def on_finished() -> None:
            loop.call_soon_threadsafe(lambda: finished.done() or finished.set_result(None))

        # Listen first, then read what came before: nothing falls between the two.
        log.subscribe(job_id, on_event)
        running = queue.on_job_finished(job_id, on_finished)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        try:
            await response.prepare(request)
            sent = last
            for event_id, event, data in log.events(job_id, after=last):
                await response.write(_frame(event_id, event, data))
                sent = event_id
            while running and not finished.done():
                waiting = asyncio.ensure_future(live.get())
                done, _ = await asyncio.wait({waiting, finished}, timeout=KEEP_ALIVE_SECONDS,
                                             return_when=asyncio.FIRST_COMPLETED)
                if waiting in done:
                    event_id, event, data = waiting.result()
                    if event_id > sent:
                        await response.write(_frame(event_id, event, data))
                        sent = event_id
                    continue
                waiting.cancel()
                if not done:
                    await response.write(b": keep-alive\n\n")
            everything = log.events(job_id)
            for event_id, event, data in everything[sent:]:
                await response.write(_frame(event_id, event, data))
            job = await asyncio.to_thread(queue.store.get, job_id)
            end_id = len(everything) + 1
            if job is not None and job.state in FINISHED_STATES and end_id > last:
                await response.write(_frame(end_id, "end", end_event(job)))
            await response.write_eof()
        except ConnectionResetError:  # the client went away; it may come back with Last-Event-ID
            pass
        finally:
            log.unsubscribe(job_id, on_event)
            queue.remove_job_callback(job_id, on_finished)
        return response
