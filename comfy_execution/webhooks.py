"""Webhooks: a prompt may name a URL that Kiln POSTs the job's result to (and its start, if asked).

A prompt body's `webhook` is a URL or `{"url": ..., "events": ["finished", "started"]}`; it is checked when the
prompt is queued (http or https only; a host that resolves to a private, loopback, link-local or reserved
address is refused unless the server runs with `--webhook-allow-private`) and kept in the job's extra_data.

Each delivery is a row of the job store (`webhook_deliveries`), so it survives restarts: the dispatcher POSTs
due deliveries, signed, and retries with exponential backoff until the receiver answers 2xx or the delivery
expires. The signature: `Kiln-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, with
`Kiln-Webhook-Id` (the same on every retry: receivers drop repeats) and `Kiln-Webhook-Timestamp` (seconds; they
reject old ones). The secret is `--webhook-secret`, or one generated once and kept in the user directory.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Any

EXTRA_DATA_KEY = "kiln_webhook"
EVENTS = ("finished", "started")
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 600.0
EXPIRY_SECONDS = 24 * 3600
SECRET_FILE = "kiln_webhook_secret"


class WebhookRefused(ValueError):
    """A webhook the server will not call (bad URL, a private address without --webhook-allow-private)."""


@dataclass(frozen=True)
class Webhook:
    url: str
    events: tuple[str, ...]


def parse_webhook(value: Any) -> Webhook:
    """The webhook of a prompt body's `webhook` field; WebhookRefused for anything malformed."""
    if isinstance(value, str):
        url, events = value, ("finished",)
    elif isinstance(value, dict) and isinstance(value.get("url"), str):
        url, events = value["url"], value.get("events", ["finished"])
        if not isinstance(events, list) or not events or any(event not in EVENTS for event in events):
            raise WebhookRefused(f"webhook.events must be a list of {', '.join(EVENTS)}")
        events = tuple(dict.fromkeys(events))
    else:
        raise WebhookRefused("webhook must be a URL or {\"url\": ..., \"events\": [...]}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"webhook must be an http or https URL, got {url!r}")
    return Webhook(url, events)


def check_address(url: str, allow_private: bool) -> None:
    """WebhookRefused when the URL's host resolves to an address only a local network reaches (blocking: DNS)."""
    if allow_private:
        return
    parts = urllib.parse.urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise WebhookRefused(f"webhook host {parts.hostname!r} does not resolve: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise WebhookRefused(f"webhook host {parts.hostname!r} is a private, loopback or reserved address "
                                 f"({address}); the server refuses those unless started with --webhook-allow-private")


def load_secret(configured: str | None, user_directory: str) -> bytes:
    """--webhook-secret, or the one kept in the user directory (made on first use, readable by its owner only)."""
    if configured:
        return configured.encode()
    path = os.path.join(user_directory, SECRET_FILE)
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip().encode()
    except FileNotFoundError:
        pass
    os.makedirs(user_directory, exist_ok=True)
    secret = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    logging.info("Made a webhook signing secret in %s (or give one with --webhook-secret)", path)
    return secret.encode()


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: bytes, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": "Kiln-Webhook/1",
            "Kiln-Webhook-Id": delivery_id, "Kiln-Webhook-Timestamp": str(timestamp),
            "Kiln-Signature": signature(secret, timestamp, body)}


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: 1, 2, 4, ... at most 10 minutes."""
    return min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))


def payload(event: str, job: Any, files: list[dict]) -> bytes:
    history = job.history or {}
    return json.dumps({"event": f"job.{event}", "prompt_id": job.prompt_id, "state": job.state,
                       "status": (history.get("status") or {}).get("status_str"),
                       "outputs": history.get("outputs", {}) if event == "finished" else {},
                       "files": files if event == "finished" else []},
                      separators=(",", ":"), default=str).encode()
