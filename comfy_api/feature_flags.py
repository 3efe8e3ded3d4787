"""Feature flags of the WebSocket protocol (`comfy_api.feature_flags`): what the server supports, and what each
connected client announced in its first `feature_flags` message (kept in `PromptServer.sockets_metadata`)."""

from __future__ import annotations

from typing import Any

from comfy.cli_args import args

SERVER_FEATURE_FLAGS: dict[str, Any] = {
    "supports_preview_metadata": True,
    "max_upload_size": float(args.max_upload_size * 1024 * 1024),
}


def get_connection_feature(sockets_metadata: dict[str, dict[str, Any]], sid: str, feature_name: str,
                           default: Any = False) -> Any:
    """The value client `sid` announced for `feature_name`, else `default`."""
    if sid not in sockets_metadata:
        return default
    return sockets_metadata[sid].get("feature_flags", {}).get(feature_name, default)


def supports_feature(sockets_metadata: dict[str, dict[str, Any]], sid: str, feature_name: str) -> bool:
    """Whether client `sid` announced `feature_name` as exactly true."""
    return get_connection_feature(sockets_metadata, sid, feature_name, False) is True


def get_server_features() -> dict[str, Any]:
    """A copy of the server's flags."""
    return SERVER_FEATURE_FLAGS.copy()
