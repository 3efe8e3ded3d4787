"""Delivering webhooks from the server process: deliveries are written to the job store when a job with a
`webhook` starts or ends, and a background task POSTs the due ones, signed, retrying with backoff across
restarts (comfy_execution/webhooks.py has the rules; this module is the sending)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import aiohttp

from app.generate_routes import output_files
from comfy_execution import webhooks
from comfy_execution.store import now_ms

if TYPE_CHECKING:
    from comfy_execution.prompt_queue import PromptQueue

IDLE_POLL_SECONDS = 5.0
REQUEST_TIMEOUT_SECONDS = 10.0


class WebhookDispatcher:
    """Writes deliveries for the queue's jobs and sends them; `start()` on the server's event loop."""

    def __init__(self, queue: PromptQueue, secret: bytes, allow_private: bool):
        self.queue = queue
        self.store = queue.store
        self.secret = secret
        self.allow_private = allow_private
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    # -- writing deliveries (called from the worker thread) ------------------------------------------------------

    def on_job_event(self, event: str, data: Any) -> None:
        if event == "execution_start" and isinstance(data, dict) and isinstance(data.get("prompt_id"), str):
            self._add(data["prompt_id"], "started")

    def on_job_finished(self, prompt_id: str) -> None:
        self._add(prompt_id, "finished")

    def _add(self, prompt_id: str, event: str) -> None:
        job = self.store.get(prompt_id)
        hook = (job.extra_data or {}).get(webhooks.EXTRA_DATA_KEY) if job is not None else None
        if not isinstance(hook, dict) or event not in hook.get("events", ()):
            return
        files = output_files(job.history) if job.history else []
        body = webhooks.payload(event, job, files)
        try:
            # One delivery per job, event and attempt of the job (a job run again after a crash reports again).
            delivery_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{prompt_id}/{event}/{job.attempts}"))
            self.store.add_delivery(delivery_id, prompt_id, event, hook["url"], body.decode())
        except Exception:
            logging.exception("Could not keep the %s webhook of prompt %s", event, prompt_id)
            return
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._wake.set)

    # -- sending ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._task = self.loop.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                try:
                    due = await asyncio.to_thread(self.store.due_deliveries, now_ms())
                    for delivery in due:
                        await self._deliver(session, delivery)
                    if due:
                        continue
                    upcoming = await asyncio.to_thread(self.store.next_delivery_at)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the store is busy or its disk full: try again later
                    logging.exception("Webhook deliveries could not be read")
                    upcoming = None
                wait = IDLE_POLL_SECONDS if upcoming is None else max(0.0, min(IDLE_POLL_SECONDS,
                                                                                (upcoming - now_ms()) / 1000))
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except asyncio.TimeoutError:
                    pass

    async def _deliver(self, session: aiohttp.ClientSession, delivery: dict) -> None:
        body = delivery["body"].encode()
        error = None
        try:
            await asyncio.to_thread(webhooks.check_address, delivery["url"], self.allow_private)
            headers = webhooks.signed_headers(self.secret, delivery["id"], int(time.time()), body)
            async with session.post(delivery["url"], data=body, headers=headers, allow_redirects=False) as answer:
                if 200 <= answer.status < 300:
                    await asyncio.to_thread(self.store.record_delivery, delivery["id"], delivered=True)
                    return
                error = f"HTTP {answer.status}"
        except webhooks.WebhookRefused as refused:
            error = str(refused)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as failure:
            error = f"{type(failure).__name__}: {failure}"
        attempts = delivery["attempts"] + 1
        next_at = now_ms() + int(webhooks.retry_delay(attempts) * 1000)
        if next_at - delivery["created_at"] > webhooks.EXPIRY_SECONDS * 1000:
            next_at = None
            logging.warning("Webhook %s of prompt %s expired after %d tries: %s", delivery["id"],
                            delivery["prompt_id"], attempts, error)
        await asyncio.to_thread(self.store.record_delivery, delivery["id"], delivered=False, error=error,
                                next_at=next_at)
