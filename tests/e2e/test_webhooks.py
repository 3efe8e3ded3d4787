"""Webhooks: signed deliveries of a job's end (and start), retried until the receiver acknowledges, across a
SIGKILL of the server; private addresses refused at queue time without --webhook-allow-private. The receiver is
a small aiohttp server this test runs on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import time

import pytest
from aiohttp import web

from .client import KilnClient
from .conftest import KilnServer
from .graphs import quick_prompt

pytestmark = pytest.mark.asyncio

SECRET = "test-secret"


class Receiver:
    """Answers each POST of a job's end with the next status of `statuses` (the last one repeats), a start with
    200, and keeps what it got."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((dict(request.headers), body))
        if json.loads(body)["event"] == "job.started":  # the script is for the end's deliveries
            return web.Response(status=200)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return web.Response(status=status)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} deliveries arrived"
            await asyncio.sleep(0.05)


def verify(headers: dict, body: bytes) -> dict:
    timestamp = headers["Kiln-Webhook-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["Kiln-Signature"], f"sha256={expected}")
    assert abs(int(timestamp) - time.time()) < 120
    return json.loads(body)


def webhook_server(tmp_path, *extra: str) -> KilnServer:
    kiln = KilnServer(tmp_path / "base", ["--webhook-allow-private", "--webhook-secret", SECRET, *extra])
    kiln.base_dir.mkdir(exist_ok=True)
    return kiln


async def test_a_receiver_that_fails_twice_gets_the_signed_delivery_on_the_third_try(tmp_path):
    async with Receiver([500, 502, 200]) as receiver:
        kiln = webhook_server(tmp_path)
        kiln.start()
        try:
            async with KilnClient(kiln.url) as client:
                answer = await client.queue_prompt(quick_prompt(), with_client_id=False,
                                                   webhook={"url": receiver.url, "events": ["started", "finished"]})
                prompt_id = answer["prompt_id"]
                await receiver.wait_for(4)  # started once, finished three times
                await asyncio.sleep(0.5)
                bodies = [verify(headers, body) for headers, body in receiver.received]
                started = [body for body in bodies if body["event"] == "job.started"]
                finished = [(headers, body) for (headers, _), body in zip(receiver.received, bodies, strict=True)
                            if body["event"] == "job.finished"]
                assert len(started) == 1 and len(finished) == 3
                assert len({headers["Kiln-Webhook-Id"] for headers, _ in finished}) == 1  # one delivery, retried
                body = finished[-1][1]
                assert body["prompt_id"] == prompt_id and body["state"] == "completed"
                assert body["status"] == "success" and "2" in body["outputs"]

                job = await client.get_json(f"/api/jobs/{prompt_id}")
                states = {delivery["event"]: delivery for delivery in job["webhooks"]}
                assert states["finished"]["state"] == "delivered" and states["finished"]["attempts"] == 3
                assert states["started"]["state"] == "delivered" and states["started"]["attempts"] == 1
        finally:
            kiln.stop()


async def test_a_delivery_pending_when_the_server_is_killed_is_delivered_after_the_restart(tmp_path):
    async with Receiver([503]) as receiver:
        kiln = webhook_server(tmp_path)
        kiln.start()
        try:
            async with KilnClient(kiln.url) as client:
                answer = await client.queue_prompt(quick_prompt(), with_client_id=False, webhook=receiver.url)
            await receiver.wait_for(1)
            kiln.process.send_signal(signal.SIGKILL)
            kiln.process.wait(timeout=30)
        finally:
            kiln.stop()
        first_id = receiver.received[0][0]["Kiln-Webhook-Id"]
        receiver.statuses = [200]
        seen = len(receiver.received)

        kiln.start()
        try:
            await receiver.wait_for(seen + 1)
            headers, body = receiver.received[-1]
            assert headers["Kiln-Webhook-Id"] == first_id
            assert verify(headers, body)["prompt_id"] == answer["prompt_id"]
            async with KilnClient(kiln.url) as client:
                for _ in range(50):
                    job = await client.get_json(f"/api/jobs/{answer['prompt_id']}")
                    if job["webhooks"][0]["state"] == "delivered":
                        break
                    await asyncio.sleep(0.1)
            assert job["webhooks"][0]["state"] == "delivered"
        finally:
            kiln.stop()


@pytest.mark.parametrize(("webhook", "words"), [
    ("http://127.0.0.1:9/hook", "--webhook-allow-private"),
    ("http://localhost/hook", "--webhook-allow-private"),
    ("http://10.1.2.3/hook", "--webhook-allow-private"),
    ("ftp://example.com/hook", "http or https"),
    ({"url": "https://example.com/hook", "events": ["sometimes"]}, "events"),
])
async def test_webhooks_the_server_will_not_call_are_refused_at_queue_time(server, webhook, words):
    async with KilnClient(server.url) as client:
        answer = await client.submit(quick_prompt(), webhook=webhook)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_webhook" and words in error["details"]
