"""Per-user settings: the JSON object in `<user folder>/comfy.settings.json` that GET/POST /settings read and merge.

Each change is read, merged and written under one lock, through a temporary file renamed into place, so two
concurrent changes never lose one another and a crash never leaves half a settings file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

from aiohttp import web

from app.file_access import write_replacing
from app.user_manager import UserManager, durable_writer

SETTINGS_FILE = "comfy.settings.json"


class AppSettings:
    """Settings of the users of `user_manager`; the blocking methods touch the disk (run them in a thread)."""

    def __init__(self, user_manager: UserManager) -> None:
        self.user_manager = user_manager
        self._lock = threading.Lock()

    def settings_path(self, user_id: str) -> str:
        """The real path of the user's settings file; raises `FileRequestError` (403) if a symlink leads out."""
        return self.user_manager.resolve(user_id, SETTINGS_FILE).real

    def read(self, user_id: str) -> dict[str, Any]:
        """The user's settings, `{}` when there are none yet or the file is not a JSON object (logged)."""
        path = self.settings_path(user_id)
        try:
            with open(path, encoding="utf-8") as stream:
                settings = json.load(stream)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            logging.error("The settings file %s cannot be read (%s); using no settings", path, error)
            return {}
        if not isinstance(settings, dict):
            logging.error("The settings file %s does not hold a JSON object; using no settings", path)
            return {}
        return settings

    def update(self, user_id: str, values: dict[str, Any]) -> None:
        """Merge `values` into the user's settings and store them."""
        with self._lock:
            settings = self.read(user_id)
            settings.update(values)
            self._write(user_id, settings)

    def _write(self, user_id: str, settings: dict[str, Any]) -> None:
        path = self.settings_path(user_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        encoded = json.dumps(settings, indent=4, ensure_ascii=False).encode("utf-8")
        write_replacing(path, durable_writer(encoded))

    # ComfyUI's names, for custom nodes that read or write a request user's settings.

    def get_settings(self, request: web.Request) -> dict[str, Any]:
        return self.read(self.user_manager.get_request_user_id(request))

    def save_settings(self, request: web.Request, settings: dict[str, Any]) -> None:
        user_id = self.user_manager.get_request_user_id(request)
        with self._lock:
            self._write(user_id, settings)
