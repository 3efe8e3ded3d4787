"""`PromptServer.instance` in a process that runs prompts without the HTTP server (a Ray worker, `main.py run`).

Custom nodes reach for `from server import PromptServer; PromptServer.instance` at import (to add routes) and
while they run (`send_sync`, `client_id`, `last_node_id`...). Such a process installs a `ServerStandIn` before it
loads them (`install_server_stand_in`); `server.py` falls back to it when no real server exists in the process.
Its messages go to the event sink it is given, the one the executor reports to; its routes register nothing.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable
from typing import Any

from comfy_execution.progress import EventSink
from protocol import BinaryEventTypes

__all__ = ["RoutesThatRegisterNothing", "ServerStandIn", "install_server_stand_in", "installed_server_stand_in",
           "progress_text_payload"]

Handler = Callable[..., Any]


def progress_text_payload(text: str | bytes, node_id: str) -> bytes:
    """The body of a binary TEXT message (`send_progress_text`): node id length, node id, then the text."""
    text_bytes = text.encode("utf-8") if isinstance(text, str) else text
    node_bytes = str(node_id).encode("utf-8")
    return struct.pack(">I", len(node_bytes)) + node_bytes + text_bytes


class RoutesThatRegisterNothing:
    """`PromptServer.instance.routes` without an HTTP server: aiohttp's `RouteTableDef` decorators, which accept
    any route and register nothing."""

    def route(self, method: str, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return lambda handler: handler

    def head(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("HEAD", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("OPTIONS", path, **kwargs)

    def view(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("*", path, **kwargs)

    def static(self, prefix: str, path: str, **kwargs: Any) -> None:
        pass

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


class ServerStandIn:
    """What custom nodes see as `PromptServer.instance` where no HTTP server runs. `sink` gets every message
    (`send_sync`, `send_json`, `send_progress_text`) and holds `client_id`, `last_node_id` and `last_prompt_id`;
    without a sink, messages are dropped. `routes` and `app` accept routes that nothing serves; on_prompt
    handlers are kept but never called (the server that queued the prompt ran its own)."""

    def __init__(self, sink: EventSink | None = None):
        self.sink = sink
        self.routes = RoutesThatRegisterNothing()
        self.prompt_queue = None
        self.number = 0
        self.supports = ["custom_nodes_from_web"]
        self.on_prompt_handlers: list[Callable[[dict], dict]] = []
        self._app: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- what the executor's sink holds ------------------------------------------------------------------------

    @property
    def client_id(self) -> str | None:
        return self.sink.client_id if self.sink is not None else None

    @client_id.setter
    def client_id(self, value: str | None) -> None:
        if self.sink is not None:
            self.sink.client_id = value

    @property
    def last_node_id(self) -> str | None:
        return self.sink.last_node_id if self.sink is not None else None

    @last_node_id.setter
    def last_node_id(self, value: str | None) -> None:
        if self.sink is not None:
            self.sink.last_node_id = value

    @property
    def last_prompt_id(self) -> str | None:
        return self.sink.last_prompt_id if self.sink is not None else None

    @last_prompt_id.setter
    def last_prompt_id(self, value: str | None) -> None:
        if self.sink is not None:
            self.sink.last_prompt_id = value

    # -- sending ------------------------------------------------------------------------------------------------

    def send_sync(self, event: str | int, data: Any, sid: str | None = None) -> None:
        if self.sink is None:
            logging.debug("Dropped %s: no event sink in this process", event)
            return
        self.sink.send_sync(event, data, sid)

    async def send(self, event: str | int, data: Any, sid: str | None = None) -> None:
        self.send_sync(event, data, sid)

    async def send_json(self, event: str, data: Any, sid: str | None = None) -> None:
        self.send_sync(event, data, sid)

    def send_progress_text(self, text: str | bytes, node_id: str, sid: str | None = None) -> None:
        self.send_sync(BinaryEventTypes.TEXT, progress_text_payload(text, node_id), sid)

    def client_supports(self, sid: str | None, feature: str) -> bool:
        return self.sink is not None and self.sink.client_supports(sid, feature)

    # -- what custom nodes register at import ------------------------------------------------------------------

    def add_on_prompt_handler(self, handler: Callable[[dict], dict]) -> None:
        self.on_prompt_handlers.append(handler)

    def trigger_on_prompt(self, json_data: dict) -> dict:
        return json_data

    @property
    def app(self) -> Any:
        """An aiohttp application that is never served (for packs that add routes or static folders to it)."""
        if self._app is None:
            from aiohttp import web

            self._app = web.Application()
        return self._app

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """An event loop that never runs: nothing here serves requests."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop


_installed: ServerStandIn | None = None


def install_server_stand_in(sink: EventSink | None = None) -> ServerStandIn:
    """Make `PromptServer.instance` a stand-in that reports to `sink`, in a process without the HTTP server; call
    it before custom nodes load. Called again, it points the same stand-in (which nodes may hold) at `sink`."""
    global _installed
    if _installed is None:
        _installed = ServerStandIn(sink)
    else:
        _installed.sink = sink
    return _installed


def installed_server_stand_in() -> ServerStandIn | None:
    return _installed
