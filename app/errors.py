"""JSON error answers in ComfyUI's error shape: `{"error": {type, message, details, extra_info}, "node_errors": {}}`."""

from __future__ import annotations

from aiohttp import web


def error_body(error_type: str, message: str, details: str = "", extra_info: dict | None = None) -> dict:
    return {
        "error": {"type": error_type, "message": message, "details": details, "extra_info": extra_info or {}},
        "node_errors": {},
    }


def json_error(status: int, error_type: str, message: str, details: str = "",
               extra_info: dict | None = None, headers: dict | None = None) -> web.Response:
    """An HTTP error whose body a client can parse and show: which input was wrong and why."""
    return web.json_response(error_body(error_type, message, details, extra_info), status=status, headers=headers)
