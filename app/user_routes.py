"""The user routes: /users, /settings, /settings/{id}, /userdata, /v2/userdata, /userdata/{file} and its move route.

Handlers parse the request, ask `UserManager` whose folder and which path, call one service (`app.user_manager`'s
file functions or `AppSettings`) in a thread, and answer with ComfyUI's status codes. Every error is a JSON body
in ComfyUI's error shape (ComfyUI answers some with plain text); an unknown user is a 401 on the settings routes
and a 403 on the userdata routes, never a 500.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

import folder_paths
from app import user_manager as user_files
from app.errors import json_error
from app.file_access import FileRequestError
from app.file_routes import DOWNLOAD_TYPE, served_content_type
from app.request_limits import JsonBodyError, parse_json_body
from app.settings import AppSettings
from app.user_manager import DEFAULT_USER, USER_HEADER, UnknownUserError, UserManager, UserPath
from comfy.cli_args import args

MethodHandler = Callable[[Any, web.Request], Awaitable[web.StreamResponse]]


def _unknown_user(status: int) -> web.Response:
    return json_error(status, "unknown_user", "Unknown user.",
                      f"Create a user with POST /users and send its id in the {USER_HEADER} header.")


def _answers_errors(unknown_user_status: int) -> Callable[[MethodHandler], MethodHandler]:
    """Turn a handler method's `FileRequestError`s and `UnknownUserError`s into JSON answers."""
    def decorate(handler: MethodHandler) -> MethodHandler:
        @functools.wraps(handler)
        async def answer(self: Any, request: web.Request) -> web.StreamResponse:
            try:
                return await handler(self, request)
            except UnknownUserError:
                return _unknown_user(unknown_user_status)
            except FileRequestError as error:
                return error.response()
        return answer
    return decorate


async def _json_body(request: web.Request) -> Any:
    try:
        return parse_json_body(await request.read())
    except JsonBodyError as error:
        raise FileRequestError(400, error.error_type, "The request body must be JSON.", str(error)) from None


def _flag(request: web.Request, name: str) -> bool:
    """A query flag that is on only when it says "true" (ComfyUI's `recurse`, `full_info`, `split`)."""
    return request.rel_url.query.get(name, "").lower() == "true"


def _overwrite(request: web.Request) -> bool:
    """`overwrite` is on unless it says exactly "false"."""
    return request.rel_url.query.get("overwrite", "true") != "false"


def _served_headers(name: str) -> dict[str, str]:
    """Content type of a user file as /view chooses it (media and JSON shown, anything a browser could run sent
    as a download), plus CSS, which the web frontend loads from `/userdata/user.css` as a stylesheet."""
    content_type = "text/css" if name.lower().endswith(".css") else served_content_type(name)
    headers = {"Content-Type": content_type, "X-Content-Type-Options": "nosniff"}
    if content_type == DOWNLOAD_TYPE:
        # RFC 6266 `filename*`: percent-encoded, so no character of a name can reach the header raw.
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(os.path.basename(name), safe='')}"
    return headers


def _written_answer(request: web.Request, target: UserPath) -> web.Response:
    """A written or moved file: its path relative to the user's folder, or with `full_info` its file info."""
    if _flag(request, "full_info"):
        info = user_files.file_info(target.real, target.root)
        info["path"] = target.relative
        return web.json_response(info)
    return web.json_response(target.relative)


class UserRoutes:
    """The handlers, over one `UserManager` and its `AppSettings`."""

    def __init__(self, users: UserManager, settings: AppSettings) -> None:
        self.users = users
        self.settings = settings

    # -- users ------------------------------------------------------------------------------------------------

    async def get_users(self, request: web.Request) -> web.Response:
        if self.users.multi_user:
            return web.json_response({"storage": "server", "users": dict(self.users.users)})
        migrated = os.path.exists(self.users.user_folder(DEFAULT_USER))
        return web.json_response({"storage": "server", "migrated": migrated})

    @_answers_errors(400)
    async def post_users(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        username = body.get("username") if isinstance(body, dict) else None
        if not isinstance(username, str) or not username.strip():
            return json_error(400, "invalid_username", "username not provided",
                              'Send {"username": "<name>"} with a non-empty name.')
        if username.strip() in self.users.users.values():
            # ComfyUI's exact answer: the web frontend shows its "error" string to the user.
            return web.json_response({"error": "Duplicate username."}, status=400)
        try:
            user_id = await asyncio.to_thread(self.users.add_user, username)
        except ValueError as error:  # taken meanwhile by a concurrent request
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response(user_id)

    # -- settings ---------------------------------------------------------------------------------------------

    @_answers_errors(401)
    async def get_settings(self, request: web.Request) -> web.Response:
        user_id = self.users.get_request_user_id(request)
        return web.json_response(await asyncio.to_thread(self.settings.read, user_id))

    @_answers_errors(401)
    async def get_setting(self, request: web.Request) -> web.Response:
        user_id = self.users.get_request_user_id(request)
        settings = await asyncio.to_thread(self.settings.read, user_id)
        return web.json_response(settings.get(request.match_info["id"]))

    @_answers_errors(401)
    async def post_settings(self, request: web.Request) -> web.Response:
        user_id = self.users.get_request_user_id(request)
        values = await _json_body(request)
        if not isinstance(values, dict):
            return json_error(400, "invalid_settings", "The settings must be a JSON object.",
                              'Send {"<setting id>": <value>, ...}.')
        await asyncio.to_thread(self.settings.update, user_id, values)
        return web.Response(status=200)

    @_answers_errors(401)
    async def post_setting(self, request: web.Request) -> web.Response:
        user_id = self.users.get_request_user_id(request)
        value = await _json_body(request)
        await asyncio.to_thread(self.settings.update, user_id, {request.match_info["id"]: value})
        return web.Response(status=200)

    # -- userdata ---------------------------------------------------------------------------------------------

    @_answers_errors(403)
    async def list_userdata(self, request: web.Request) -> web.Response:
        directory = request.rel_url.query.get("dir", "")
        if not directory:
            return json_error(400, "missing_directory", "Directory not provided",
                              "Pass the folder to list as the 'dir' query parameter, e.g. dir=workflows.")
        try:
            folder = self.users.request_path(request, directory)
        except FileRequestError as error:
            if error.status != 403:
                raise
            return json_error(403, "invalid_directory", "Invalid directory", error.message)
        if not os.path.isdir(folder.real):
            return json_error(404, "directory_not_found", "Directory not found", folder.relative)
        files = await asyncio.to_thread(user_files.list_files, folder, _flag(request, "recurse"))
        if _flag(request, "full_info"):
            return web.json_response(await asyncio.to_thread(user_files.file_infos, folder, files))
        if _flag(request, "split"):
            return web.json_response([[path, *path.split("/")] for path in files])
        return web.json_response(files)

    @_answers_errors(403)
    async def list_userdata_v2(self, request: web.Request) -> web.Response:
        user_id = self.users.get_request_user_id(request)
        requested = request.rel_url.query.get("path", "")
        try:
            folder = self.users.resolve(user_id, requested or ".")
        except FileRequestError as error:
            # ComfyUI answers 400 here for a path leaving the user's folder.
            return json_error(400, "invalid_path", "Invalid path requested", error.message)
        if not os.path.exists(folder.real):
            if folder.is_root:
                return web.json_response([])  # a new user has no folder yet
            return json_error(404, "path_not_found", "Requested path not found", folder.relative)
        if not os.path.isdir(folder.real):
            return json_error(400, "not_a_directory", "Requested path is not a directory", folder.relative)
        try:
            entries = await asyncio.to_thread(user_files.list_entries, folder)
        except OSError as error:
            return json_error(500, "listing_failed", "Error reading directory contents", str(error))
        return web.json_response(entries)

    def _file_param(self, request: web.Request, name: str = "file") -> UserPath:
        return self.users.request_path(request, request.match_info.get(name, ""))

    @_answers_errors(403)
    async def get_userdata(self, request: web.Request) -> web.StreamResponse:
        target = self._file_param(request)
        if not os.path.isfile(target.real):
            return json_error(404, "file_not_found", "File not found", target.relative)
        return web.FileResponse(target.real, headers=_served_headers(target.relative))

    @_answers_errors(403)
    async def post_userdata(self, request: web.Request) -> web.Response:
        target = self._file_param(request)
        data = await request.read()
        await asyncio.to_thread(user_files.write_file, target, data, _overwrite(request))
        return _written_answer(request, target)

    @_answers_errors(403)
    async def delete_userdata(self, request: web.Request) -> web.Response:
        target = self._file_param(request)
        await asyncio.to_thread(user_files.delete_file, target)
        return web.Response(status=204)

    @_answers_errors(403)
    async def move_userdata(self, request: web.Request) -> web.Response:
        source = self._file_param(request)
        destination = self._file_param(request, "dest")
        await asyncio.to_thread(user_files.move_file, source, destination, _overwrite(request))
        return _written_answer(request, destination)


def add_user_routes(routes: web.RouteTableDef) -> UserManager:
    """Register the user, settings and userdata routes on `routes` (the server mirrors them under /api); returns
    the `UserManager` (with `.settings`), which the server keeps as `PromptServer.instance.user_manager`."""
    users = UserManager(folder_paths.get_user_directory(), args.multi_user)
    users.settings = AppSettings(users)
    handlers = UserRoutes(users, users.settings)
    routes.get("/users")(handlers.get_users)
    routes.post("/users")(handlers.post_users)
    routes.get("/settings")(handlers.get_settings)
    routes.post("/settings")(handlers.post_settings)
    routes.get("/settings/{id}")(handlers.get_setting)
    routes.post("/settings/{id}")(handlers.post_setting)
    routes.get("/userdata")(handlers.list_userdata)
    routes.get("/v2/userdata")(handlers.list_userdata_v2)
    # `[^/]+` rather than aiohttp's default `[^{}/]+`, so names with braces are reachable too.
    routes.get("/userdata/{file:[^/]+}")(handlers.get_userdata)
    routes.post("/userdata/{file:[^/]+}")(handlers.post_userdata)
    routes.delete("/userdata/{file:[^/]+}")(handlers.delete_userdata)
    routes.post("/userdata/{file:[^/]+}/move/{dest:[^/]+}")(handlers.move_userdata)
    return users
