"""Users and their folders: who a request is, the `users.json` registry, and the files in `<user dir>/<user id>/`.

A request is user "default" unless the server runs with `--multi-user`, where the `Comfy-User` header names the
user. Every path a client names is resolved to its real path (symlinks followed) and must stay inside that user's
own folder, so no request reaches another user's folder, `users.json` or the job store beside them. Refusals are
`FileRequestError`s (HTTP status plus JSON error fields) that the routes in `app/user_routes.py` answer with.
Writes go through a temporary file in the same folder that is renamed into place, so a crash never leaves half a
workflow behind.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from aiohttp import web

from app.file_access import FileRequestError, is_inside, write_replacing

DEFAULT_USER = "default"
USERS_FILE = "users.json"
USER_HEADER = "Comfy-User"
# A user id is one folder name: letters, digits, '-' and '_' only, so it can never be a path. Ids starting with
# "__" are system folders (ComfyUI-Manager keeps its config in `user/__manager`), never users.
USER_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,200}")
SYSTEM_PREFIX = "__"
MAX_NAME_IN_ID = 64


class UnknownUserError(KeyError):
    """The request names a user this server does not know, or an id that can never be a user.

    A `KeyError`, as ComfyUI's `get_request_user_id` raises, so custom nodes that catch that keep working."""

    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id


def is_valid_user_id(user_id: str) -> bool:
    return bool(USER_ID_PATTERN.fullmatch(user_id)) and not user_id.startswith(SYSTEM_PREFIX)


@dataclass(frozen=True)
class UserPath:
    """A client-named path inside one user's folder."""

    real: str  # the real path (symlinks resolved) of the target, inside the user's folder; it may not exist yet
    relative: str  # the path relative to the user's folder, '/'-separated, as answers show it ("." for the folder)
    root: str  # the user's folder

    @property
    def is_root(self) -> bool:
        return self.relative == "."


class UserManager:
    """The users of one server and the folders they own under `user_directory`.

    Single-user (the default): every request is user "default". With `multi_user`: the `Comfy-User` header names
    one of the users in `users.json` (created through POST /users); anything else is an `UnknownUserError`.
    """

    settings: Any = None  # the users' `AppSettings` (app.settings), set when the routes are added

    def __init__(self, user_directory: str, multi_user: bool) -> None:
        self.user_directory = os.path.abspath(user_directory)
        self.multi_user = multi_user
        self._lock = threading.Lock()
        os.makedirs(self.user_directory, exist_ok=True)
        self.users: dict[str, str] = self._read_users()

    # -- the users.json registry -------------------------------------------------------------------------------

    def get_users_file(self) -> str:
        return os.path.join(self.user_directory, USERS_FILE)

    def _read_users(self) -> dict[str, str]:
        """`{user_id: name}` from users.json; ids that could be paths are dropped with a warning."""
        try:
            with open(self.get_users_file(), encoding="utf-8") as stream:
                stored = json.load(stream)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            logging.error("Cannot read %s (%s); starting with no users", self.get_users_file(), error)
            return {}
        if not isinstance(stored, dict):
            logging.error("%s is not a JSON object; starting with no users", self.get_users_file())
            return {}
        users = {}
        for user_id, name in stored.items():
            if is_valid_user_id(user_id):
                users[user_id] = str(name)
            else:
                logging.warning("Ignoring user %r in %s: a user id may only hold letters, digits, '-' and '_'",
                                user_id, self.get_users_file())
        return users

    def is_known(self, user_id: str) -> bool:
        if not is_valid_user_id(user_id):
            return False
        return user_id in self.users or (not self.multi_user and user_id == DEFAULT_USER)

    def add_user(self, name: str) -> str:
        """Create a user called `name` (stripped, non-empty, not taken) and return its new id `<name>_<uuid4>`;
        raises `ValueError` saying what is wrong."""
        name = name.strip()
        if not name:
            raise ValueError("The username is empty.")
        with self._lock:
            if name in self.users.values():
                raise ValueError("Duplicate username.")
            readable = re.sub(r"[^A-Za-z0-9_-]+", "-", name)[:MAX_NAME_IN_ID].lstrip("_") or "user"
            user_id = f"{readable}_{uuid.uuid4()}"
            users = {**self.users, user_id: name}
            encoded = json.dumps(users, indent=2).encode("utf-8")
            write_replacing(self.get_users_file(), durable_writer(encoded))
            self.users = users
        return user_id

    # -- who a request is --------------------------------------------------------------------------------------

    def get_request_user_id(self, request: web.Request) -> str:
        """The id of the user a request acts for; raises `UnknownUserError` (a `KeyError`)."""
        user_id = DEFAULT_USER
        if self.multi_user and USER_HEADER in request.headers:
            user_id = request.headers[USER_HEADER]
        if not self.is_known(user_id):
            raise UnknownUserError(user_id)
        return user_id

    def user_folder(self, user_id: str) -> str:
        """`<user directory>/<user id>`; `user_id` must be a known (hence valid) id."""
        return os.path.join(self.user_directory, user_id)

    def resolve(self, user_id: str, relative: str) -> UserPath:
        """Where `relative` (as the client sent it, already URL-decoded) lands inside the user's folder.

        Raises `FileRequestError`: 400 for an empty path, control characters or backslashes; 403 for an absolute
        path or one that, with `..` and every symlink resolved, leaves the user's folder."""
        if not relative:
            raise FileRequestError(400, "invalid_path", "The path is empty.")
        if any(ord(character) < 32 or ord(character) == 127 for character in relative):
            raise FileRequestError(400, "invalid_path", "The path contains a control character.", repr(relative))
        if "\\" in relative:
            raise FileRequestError(400, "invalid_path", "The path contains a backslash; use '/' between folders.",
                                   relative)
        root = self.user_folder(user_id)
        lexical = os.path.normpath(os.path.join(root, relative))
        if os.path.isabs(relative) or not (lexical == root or lexical.startswith(root + os.sep)):
            raise _outside(relative)
        real = os.path.realpath(lexical)
        if not is_inside(root, real):
            raise _outside(relative)
        return UserPath(real=real, relative=os.path.relpath(lexical, root).replace(os.sep, "/"), root=root)

    def request_path(self, request: web.Request, relative: str) -> UserPath:
        return self.resolve(self.get_request_user_id(request), relative)

    def get_request_user_filepath(self, request: web.Request, file: str | None, type: str = "userdata",  # noqa: A002
                                  create_dir: bool = True) -> str | None:
        """ComfyUI's name for custom nodes: the path of `file` in the request user's folder (the folder itself for
        None), or None when it would leave that folder; raises `KeyError` for an unknown user."""
        if type != "userdata":
            raise KeyError("Unknown filepath type: " + type)
        user_id = self.get_request_user_id(request)
        if file is None:
            path = self.user_folder(user_id)
        else:
            try:
                path = self.resolve(user_id, file).real
            except FileRequestError:
                return None
        if create_dir:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        return path


def _outside(relative: str) -> FileRequestError:
    return FileRequestError(403, "path_outside_user_folder",
                            "The path leaves your user folder (it is absolute, or '..' or a symlink leads out).",
                            relative)


# ---------------------------------------------------------------------------------------------------------------
# Files in a user's folder (blocking: run these in a thread)


def durable_writer(data: bytes) -> Callable[[BinaryIO], None]:
    """A `write_replacing` writer that puts `data` on disk before the rename, so the file is whole even after a
    power cut."""
    def write(stream: BinaryIO) -> None:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    return write


def file_info(path: str, relative_to: str) -> dict[str, Any]:
    """`{"path", "size", "modified", "created"}` as ComfyUI gives them: times are float seconds since the epoch."""
    stat = os.stat(path)
    return {"path": os.path.relpath(path, relative_to).replace(os.sep, "/"), "size": stat.st_size,
            "modified": stat.st_mtime, "created": stat.st_ctime}


def file_infos(folder: UserPath, paths: list[str]) -> list[dict[str, Any]]:
    """`file_info` of each of `paths` (relative to `folder`), leaving out files deleted since they were listed."""
    infos = []
    for path in paths:
        try:
            infos.append(file_info(os.path.join(folder.real, path), folder.real))
        except FileNotFoundError:
            pass
    return infos


def _visible(name: str) -> bool:
    """Hidden names (ours: the `.name.xxxx.partial.ext` files of writes in progress) are left out of listings, as the
    shell-style listing ComfyUI uses leaves them out."""
    return not name.startswith(".")


def list_files(folder: UserPath, recurse: bool) -> list[str]:
    """The regular files in `folder` (and its subfolders when `recurse`), as sorted '/'-separated paths relative to
    it. Symlinks whose target lies outside the user's folder are left out, and a folder is never walked twice."""
    found: list[str] = []
    seen_folders = {folder.real}
    for current, folders, files in os.walk(folder.real, followlinks=True):
        kept = []
        for name in sorted(folders):
            real = os.path.realpath(os.path.join(current, name))
            if recurse and _visible(name) and is_inside(folder.root, real) and real not in seen_folders:
                seen_folders.add(real)
                kept.append(name)
        folders[:] = kept
        for name in files:
            path = os.path.join(current, name)
            if _visible(name) and is_inside(folder.root, path) and os.path.isfile(path):
                found.append(os.path.relpath(path, folder.real).replace(os.sep, "/"))
    return sorted(found)


def list_entries(folder: UserPath) -> list[dict[str, Any]]:
    """Every folder and file below `folder` as `{"name", "path", "type"[, "size", "modified"]}`, paths relative
    to the user's folder; folders first, then by lowercase name (ComfyUI's GET /v2/userdata)."""
    entries: list[dict[str, Any]] = []
    seen_folders = {folder.real}
    for current, folders, files in os.walk(folder.real, followlinks=True):
        kept = []
        for name in folders:
            real = os.path.realpath(os.path.join(current, name))
            if is_inside(folder.root, real) and real not in seen_folders:
                seen_folders.add(real)
                kept.append(name)
                relative = os.path.relpath(os.path.join(current, name), folder.real)
                entries.append({"name": name, "path": _from_root(folder, relative), "type": "directory"})
        folders[:] = kept
        for name in files:
            path = os.path.join(current, name)
            if not is_inside(folder.root, path):
                continue
            entry: dict[str, Any] = {"name": name, "path": _from_root(folder, os.path.relpath(path, folder.real)),
                                     "type": "file"}
            try:
                stat = os.stat(path)
                entry.update(size=stat.st_size, modified=stat.st_mtime)
            except OSError:  # a dangling link or a file deleted meanwhile: listed without size
                pass
            entries.append(entry)
    entries.sort(key=lambda entry: (entry["type"] != "directory", entry["name"].lower()))
    return entries


def _from_root(folder: UserPath, relative_to_folder: str) -> str:
    """A path below `folder`, given relative to it, made relative to the user's folder."""
    joined = os.path.normpath(os.path.join(folder.relative, relative_to_folder))
    return joined.replace(os.sep, "/")


def _storage_error(error: OSError, what: str) -> FileRequestError:
    if error.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENOTEMPTY):
        return FileRequestError(409, "path_conflict", f"A folder or file is in the way of the {what}.", str(error))
    if error.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ):
        return FileRequestError(400, "invalid_filename",
                                "Invalid filename. Please avoid special characters like :\\/*?\"<>|", str(error))
    return FileRequestError(500, "storage_failed", f"The {what} failed on the server's disk.", str(error))


def write_file(target: UserPath, data: bytes, overwrite: bool) -> None:
    """Store `data` at `target` atomically, creating its folders; 409 if it exists and not `overwrite`."""
    if target.is_root or os.path.isdir(target.real):
        raise FileRequestError(409, "path_conflict", "That path is a folder, not a file.", target.relative)
    if not overwrite and os.path.lexists(target.real):
        raise FileRequestError(409, "file_exists", "File already exists", target.relative)
    try:
        os.makedirs(os.path.dirname(target.real), exist_ok=True)
        write_replacing(target.real, durable_writer(data))
    except OSError as error:
        raise _storage_error(error, "write") from error


def delete_file(target: UserPath) -> None:
    """Remove the file at `target`; 404 if there is none, 409 for a folder."""
    if not os.path.lexists(target.real):
        raise FileRequestError(404, "file_not_found", "File not found", target.relative)
    if target.is_root or os.path.isdir(target.real):
        raise FileRequestError(409, "path_conflict", "That path is a folder; only files can be deleted.",
                               target.relative)
    try:
        os.remove(target.real)
    except OSError as error:
        raise _storage_error(error, "delete") from error


def move_file(source: UserPath, destination: UserPath, overwrite: bool) -> None:
    """Move or rename `source` (a file or folder) to `destination` in the same user's folder, creating folders;
    404 if the source is missing, 409 if the destination exists and not `overwrite`."""
    if not os.path.lexists(source.real):
        raise FileRequestError(404, "file_not_found", "File not found", source.relative)
    if source.is_root or destination.is_root:
        raise FileRequestError(400, "invalid_path", "The user folder itself cannot be moved or replaced.")
    if os.path.lexists(destination.real) and not overwrite:
        raise FileRequestError(409, "file_exists", "File already exists", destination.relative)
    if os.path.isdir(destination.real):
        raise FileRequestError(409, "path_conflict", "A folder is in the way of the move.", destination.relative)
    if os.path.isdir(source.real) and is_inside(source.real, destination.real):
        raise FileRequestError(400, "invalid_path", "A folder cannot be moved into itself.", destination.relative)
    try:
        os.makedirs(os.path.dirname(destination.real), exist_ok=True)
        shutil.move(source.real, destination.real)  # a rename (atomic) within one file system
    except OSError as error:
        raise _storage_error(error, "move") from error
