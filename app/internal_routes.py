"""Routes for the web frontend only, under /internal and never under /api (as in ComfyUI): the server log
(/internal/logs, /internal/logs/raw, and `logs` WebSocket messages to clients that subscribe with PATCH
/internal/logs/subscribe), the model folders (/internal/folder_paths) and the files of the input, output and temp
folders (/internal/files/{type}).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

import folder_paths
from app.errors import json_error
from app.file_access import FILE_TYPES, is_inside
from app.logger import get_logs
from app.prompt_routes import read_json_object

if TYPE_CHECKING:
    from server import PromptServer

DEFAULT_TERMINAL_SIZE = (80, 24)


def terminal_size() -> dict[str, int]:
    """The server's terminal size as `{"cols", "rows"}` (80x24 when it has no terminal), for the log viewer."""
    size = shutil.get_terminal_size(DEFAULT_TERMINAL_SIZE)
    return {"cols": size.columns, "rows": size.lines}


class LogSubscriptions(logging.Handler):
    """Sends every new log line as a `logs` WebSocket message to the clients that subscribed.

    Attached to the root logger; `emit` runs on whichever thread logged, and only queues the message
    (`PromptServer.send_sync` is thread-safe). A subscription ends when the client asks, or is dropped once its
    WebSocket is gone and another client subscribes.
    """

    def __init__(self, server: PromptServer) -> None:
        super().__init__()
        self.server = server
        self.client_ids: set[str] = set()
        self.last_size: dict[str, int] | None = None
        self.setFormatter(logging.Formatter("%(message)s"))

    def subscribe(self, client_id: str) -> None:
        self.client_ids = {sid for sid in self.client_ids if sid in self.server.sockets} | {client_id}

    def unsubscribe(self, client_id: str) -> None:
        self.client_ids = self.client_ids - {client_id}

    def emit(self, record: logging.LogRecord) -> None:
        client_ids = self.client_ids
        if not client_ids:
            return
        try:
            entry = {"t": datetime.now().isoformat(), "m": self.format(record) + "\n"}
            size = terminal_size()
            # The size goes only with the first message after it changed; the viewer keeps the last one it got.
            message = {"entries": [entry], "size": size if size != self.last_size else None}
            self.last_size = size
            for client_id in client_ids:
                if client_id in self.server.sockets:
                    self.server.send_sync("logs", message, client_id)
        except Exception:  # never log from here: that would come straight back to this handler
            pass


def visible_files(directory: str) -> list[str]:
    """The names of the regular, non-hidden files directly in `directory` whose real path stays inside it, newest
    first."""
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    files = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file() or not is_inside(directory, entry.path):
            continue
        try:
            files.append((entry.stat().st_mtime, entry.name))
        except OSError:
            continue
    return [name for _, name in sorted(files, key=lambda item: -item[0])]


def add_internal_routes(app: web.Application, server: PromptServer) -> LogSubscriptions:
    """Register the /internal routes on `app` directly (so they are not duplicated under /api) and attach the log
    subscription handler to the root logger; returns that handler."""
    subscriptions = LogSubscriptions(server)
    logging.getLogger().addHandler(subscriptions)

    async def get_logs_text(request: web.Request) -> web.Response:
        return web.json_response("".join(f"{entry['t']} - {entry['m']}" for entry in get_logs()))

    async def get_logs_raw(request: web.Request) -> web.Response:
        return web.json_response({"entries": get_logs(), "size": terminal_size()})

    async def subscribe_logs(request: web.Request) -> web.Response:
        body = await read_json_object(request)
        if isinstance(body, web.Response):
            return body
        client_id, enabled = body.get("clientId"), body.get("enabled")
        if not isinstance(client_id, str) or not client_id or not isinstance(enabled, bool):
            return json_error(400, "invalid_subscription", "Expected {\"clientId\": <your /ws clientId>, "
                              "\"enabled\": true or false}", f"Got clientId={client_id!r}, enabled={enabled!r}.")
        if enabled:
            subscriptions.subscribe(client_id)
        else:
            subscriptions.unsubscribe(client_id)
        return web.Response(status=200)

    async def get_folder_paths(request: web.Request) -> web.Response:
        return web.json_response({name: folder_paths.get_folder_paths(name)
                                  for name in folder_paths.folder_names_and_paths})

    async def get_files(request: web.Request) -> web.Response:
        directory_type = request.match_info["directory_type"]
        directory = folder_paths.get_directory_by_type(directory_type)
        if directory is None:
            return json_error(400, "invalid_type", "Invalid directory type",
                              f"Got {directory_type!r}; expected one of: {', '.join(FILE_TYPES)}.")
        return web.json_response(await asyncio.to_thread(visible_files, directory))

    app.router.add_get("/internal/logs", get_logs_text)
    app.router.add_get("/internal/logs/raw", get_logs_raw)
    app.router.add_patch("/internal/logs/subscribe", subscribe_logs)
    app.router.add_get("/internal/folder_paths", get_folder_paths)
    app.router.add_get("/internal/files/{directory_type}", get_files)
    return subscriptions
