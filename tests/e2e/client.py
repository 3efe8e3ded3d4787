"""A small ComfyUI API client for the end-to-end tests, used the way ComfyUI's script_examples clients do.

It opens `/ws?clientId=<uuid>`, POSTs `/prompt` with that `client_id`, collects WebSocket messages until
`executing` with `node: null` for the prompt, reads `/history/{prompt_id}` and fetches images through `/view`.
Every JSON frame received is kept in `messages` (binary frames in `binary_frames`), so tests can check whole
message sequences.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDict
from PIL import Image

Message = dict[str, Any]

DEFAULT_TIMEOUT = 30.0


@dataclass
class HttpResult:
    """One HTTP answer: status, headers (case-insensitive) and raw body; `json()` parses the body (and fails the
    test if it can't)."""

    status: int
    headers: CIMultiDict
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise AssertionError(f"HTTP {self.status} body is not JSON: {self.body[:500]!r}") from error


@dataclass
class Run:
    """A finished prompt: the POST /prompt answer, its WebSocket messages and its /history entry."""

    prompt_id: str
    number: Any
    node_errors: dict
    messages: list[Message]
    history: dict = field(default_factory=dict)

    def of_type(self, message_type: str) -> list[dict]:
        """The `data` of every message of this type, in arrival order."""
        return [message["data"] for message in self.messages if message["type"] == message_type]

    def types(self) -> list[str]:
        return [message["type"] for message in self.messages]

    def executed_nodes(self) -> list[str]:
        """Ids of the nodes that really ran (`executing` with a node), in order."""
        return [data["node"] for data in self.of_type("executing") if data["node"] is not None]

    def outputs(self) -> dict:
        return self.history.get("outputs", {})


class KilnClient:
    """HTTP + WebSocket client of one Kiln/ComfyUI server.

    `api_prefix="/api"` sends every request (and the socket) under `/api`, as the web frontend does.
    Use as `async with KilnClient(url) as client: await client.connect()`.
    """

    def __init__(self, base_url: str, *, api_prefix: str = "", client_id: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_prefix = api_prefix
        self.client_id = client_id or str(uuid.uuid4())
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.messages: list[Message] = []
        self.binary_frames: list[bytes] = []
        self._waiters: list[tuple[Callable[[Message], bool], asyncio.Future]] = []
        self._reader: asyncio.Task | None = None
        self._closed_reason: str | None = None

    async def __aenter__(self) -> KilnClient:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        if self.session is not None:
            await self.session.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}{self.api_prefix}{path}"

    # ---- HTTP -------------------------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, raw_path: bool = False, **kwargs: Any) -> HttpResult:
        """Any request; `path` is put under the client's api prefix unless `raw_path`."""
        assert self.session is not None, "use the client as an async context manager"
        url = f"{self.base_url}{path}" if raw_path else self.url(path)
        async with self.session.request(method, url, **kwargs) as response:
            body = await response.read()
            return HttpResult(response.status, CIMultiDict(response.headers), body)

    async def get(self, path: str, **params: Any) -> HttpResult:
        return await self.request("GET", path, params={key: str(value) for key, value in params.items()})

    async def get_json(self, path: str, **params: Any) -> Any:
        result = await self.get(path, **params)
        assert result.status == 200, f"GET {path} answered {result.status}: {result.body[:500]!r}"
        return result.json()

    async def post_json(self, path: str, body: Any) -> HttpResult:
        return await self.request("POST", path, json=body)

    async def post_raw(self, path: str, data: bytes, content_type: str = "application/json") -> HttpResult:
        return await self.request("POST", path, data=data, headers={"Content-Type": content_type})

    # ---- WebSocket --------------------------------------------------------------------------------------------

    async def connect(self, feature_flags: dict | None = None) -> Message:
        """Open `/ws?clientId=...`, optionally send the feature-flag handshake, and return the first message
        (the `status` the server sends on connect)."""
        assert self.session is not None, "use the client as an async context manager"
        self.ws = await self.session.ws_connect(self.url("/ws"), params={"clientId": self.client_id}, max_msg_size=0)
        self._reader = asyncio.create_task(self._read_frames())
        if feature_flags is not None:
            await self.ws.send_json({"type": "feature_flags", "data": feature_flags})
        _, first = await self.wait_for(lambda message: True, timeout=10)
        return first

    async def _read_frames(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    self._arrive(json.loads(frame.data))
                elif frame.type == aiohttp.WSMsgType.BINARY:
                    self.binary_frames.append(frame.data)
                elif frame.type == aiohttp.WSMsgType.ERROR:
                    break
        finally:
            self._closed_reason = f"websocket closed ({self.ws.close_code}, {self.ws.exception()!r})"
            for _, waiter in self._waiters:
                if not waiter.done():
                    waiter.set_exception(AssertionError(
                        f"{self._closed_reason} while waiting; last messages:\n{self._recent()}"))
            self._waiters.clear()

    def _arrive(self, message: Message) -> None:
        """Keep a message and hand it to every waiter whose predicate it satisfies (checked here, once per
        message, so a flood of messages costs no task switches)."""
        index = len(self.messages)
        self.messages.append(message)
        if not self._waiters:
            return
        still_waiting = []
        for predicate, waiter in self._waiters:
            if waiter.done():
                continue
            if predicate(message):
                waiter.set_result((index, message))
            else:
                still_waiting.append((predicate, waiter))
        self._waiters = still_waiting

    async def wait_for(self, predicate: Callable[[Message], bool], *, timeout: float = DEFAULT_TIMEOUT,
                       start: int = 0) -> tuple[int, Message]:
        """The first JSON message at index >= `start` for which `predicate` holds, with its index."""
        for index in range(start, len(self.messages)):
            if predicate(self.messages[index]):
                return index, self.messages[index]
        if self._closed_reason is not None:
            raise AssertionError(f"{self._closed_reason} while waiting; last messages:\n{self._recent()}")
        waiter: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, waiter))
        try:
            return await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out after {timeout} s waiting for a message "
                                 f"({len(self.messages)} received); last messages:\n{self._recent()}") from None

    def _recent(self, count: int = 8, width: int = 300) -> str:
        """The last messages, each cut to `width` characters, for failure reports."""
        return "\n".join(repr(message)[:width] for message in self.messages[-count:])

    async def wait_for_type(self, message_type: str, prompt_id: str | None = None, *,
                            timeout: float = DEFAULT_TIMEOUT, start: int = 0) -> tuple[int, Message]:
        """The first message of this type (and, if given, this prompt_id)."""
        def matches(message: Message) -> bool:
            if message.get("type") != message_type:
                return False
            return prompt_id is None or (message.get("data") or {}).get("prompt_id") == prompt_id
        return await self.wait_for(matches, timeout=timeout, start=start)

    async def wait_done(self, prompt_id: str, *, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Wait for the completion signal `executing {node: null, prompt_id}`; returns its index."""
        def is_done(message: Message) -> bool:
            data = message.get("data") or {}
            return message.get("type") == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id
        index, _ = await self.wait_for(is_done, timeout=timeout)
        return index

    def messages_for(self, prompt_id: str) -> list[Message]:
        """Every JSON message whose data carries this prompt_id, in arrival order."""
        return [message for message in self.messages
                if isinstance(message.get("data"), dict) and message["data"].get("prompt_id") == prompt_id]

    # ---- prompts ----------------------------------------------------------------------------------------------

    async def submit(self, prompt: Any, *, with_client_id: bool = True, **body: Any) -> HttpResult:
        """POST /prompt with `{"prompt": prompt, "client_id": ..., **body}`; the raw answer."""
        payload = {"prompt": prompt, **body}
        if with_client_id:
            payload["client_id"] = self.client_id
        return await self.post_json("/prompt", payload)

    async def queue_prompt(self, prompt: dict, **body: Any) -> dict:
        """POST /prompt and require HTTP 200; the answer `{"prompt_id", "number", "node_errors"}`."""
        result = await self.submit(prompt, **body)
        assert result.status == 200, f"POST /prompt answered {result.status}: {result.body[:2000]!r}"
        return result.json()

    async def run(self, prompt: dict, *, timeout: float = DEFAULT_TIMEOUT, **body: Any) -> Run:
        """Queue a prompt, wait for its completion signal and read its history entry."""
        answer = await self.queue_prompt(prompt, **body)
        prompt_id = answer["prompt_id"]
        await self.wait_done(prompt_id, timeout=timeout)
        history = await self.history(prompt_id)
        return Run(prompt_id, answer["number"], answer["node_errors"], self.messages_for(prompt_id),
                   history.get(prompt_id, {}))

    async def history(self, prompt_id: str | None = None, **params: Any) -> dict:
        path = "/history" if prompt_id is None else f"/history/{prompt_id}"
        return await self.get_json(path, **params)

    async def queue(self) -> dict:
        return await self.get_json("/queue")

    async def interrupt(self, prompt_id: str | None = None) -> HttpResult:
        if prompt_id is None:
            return await self.request("POST", "/interrupt")
        return await self.post_json("/interrupt", {"prompt_id": prompt_id})

    # ---- files ------------------------------------------------------------------------------------------------

    async def view(self, filename: str, *, subfolder: str | None = None, type: str | None = None,  # noqa: A002
                   **params: Any) -> HttpResult:
        query = {"filename": filename, **params}
        if subfolder is not None:
            query["subfolder"] = subfolder
        if type is not None:
            query["type"] = type
        return await self.get("/view", **query)

    async def download(self, item: dict, **params: Any) -> bytes:
        """The bytes of a file reference `{"filename", "subfolder", "type"}` (an output's entry), via /view."""
        result = await self.view(item["filename"], subfolder=item.get("subfolder", ""), type=item.get("type"),
                                 **params)
        assert result.status == 200, f"/view {item} answered {result.status}: {result.body[:300]!r}"
        return result.body

    async def view_image(self, image: dict, **params: Any) -> Image.Image:
        """Fetch an image reference `{"filename", "subfolder", "type"}` through /view and decode it."""
        decoded = Image.open(io.BytesIO(await self.download(image, **params)))
        decoded.load()
        return decoded

    async def upload_image(self, data: bytes, filename: str, **fields: str) -> HttpResult:
        """POST /upload/image as multipart: the file as `image`, plus `type`, `subfolder`, `overwrite`..."""
        # quote_fields=False sends the file name as given (a browser does too), so names with "/" reach the server.
        form = aiohttp.FormData(quote_fields=False)
        form.add_field("image", data, filename=filename, content_type="image/png")
        for name, value in fields.items():
            form.add_field(name, value)
        return await self.request("POST", "/upload/image", data=form)
