"""Who may talk to the server: API keys (`--api-key`, `--api-keys-file`) and the same-origin check for browsers.

Both are aiohttp middlewares that `server.PromptServer` installs. Without a key the server answers anyone who can
reach its port, as ComfyUI does; `warn_if_exposed` says so loudly when that port is reachable from other machines.

The origin check follows ComfyUI's (refuse a browser request whose `Origin` is not the `Host` it was sent to) but
closes its gaps: it applies to every host, not only loopback ones; `Origin: null`, other schemes and malformed
origins are refused; ports are always compared (a missing port is the scheme's default); IPv6 literals are
compared in one canonical form.

A browser cannot add a Bearer header to its page loads and the frontend's requests, so opening `/?token=KEY` once
signs the browser in: the answer redirects to `/` and sets an HttpOnly, SameSite=Strict session cookie. The cookie
holds an HMAC of the key under a secret drawn when the server starts, never the key itself; it is valid until the
server restarts. It is accepted only from the server's own pages (no `Origin`, or an `Origin` equal to the
`Host`), so it never authorizes a request from another site, even where `--enable-cors-header` lets such pages in.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import logging
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from aiohttp import web

from app.errors import json_error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Answered without a key, so load balancers and orchestrators can probe the server.
PUBLIC_PATHS = frozenset({"/health", "/api/health"})
TOKEN_QUERY_PARAMETER = "token"
# The session cookie's name is this prefix and a per-process suffix, so two servers on one host (cookies ignore
# ports) each keep their own session instead of overwriting each other's.
SESSION_COOKIE_PREFIX = "kiln_session_"
SIGN_IN_PATH = "/"
DEFAULT_PORTS = {"http": 80, "https": 443}


# ---------------------------------------------------------------------------------------------------------------
# API keys


def read_api_keys(keys: Iterable[str] | None, keys_file: str | None) -> tuple[bytes, ...]:
    """The accepted keys, as UTF-8 bytes: each `--api-key`, then each line of `--api-keys-file` (blank lines and
    lines starting with '#' skipped). Raises `SystemExit` with a message naming the flag when a key is empty or the
    file is unreadable or holds no key, so a typo never leaves a server open that its owner meant to close."""
    accepted: list[bytes] = []
    for key in keys or []:
        if not key.strip():
            raise SystemExit("--api-key was given an empty key; pass the key itself, e.g. --api-key \"$KILN_KEY\".")
        accepted.append(key.strip().encode("utf-8"))
    if keys_file:
        try:
            with open(keys_file, encoding="utf-8") as stream:
                lines = [line.strip() for line in stream]
        except (OSError, UnicodeDecodeError) as error:
            raise SystemExit(f"--api-keys-file {keys_file}: cannot read it ({error}).")
        file_keys = [line.encode("utf-8") for line in lines if line and not line.startswith("#")]
        if not file_keys:
            raise SystemExit(f"--api-keys-file {keys_file} holds no key (one key per line).")
        accepted.extend(file_keys)
    return tuple(accepted)


def presented_key(request: web.Request) -> bytes | None:
    """The key a request carries: `Authorization: Bearer KEY`, else the `token` query parameter (for what a
    browser loads without custom headers: the WebSocket, `<img src=/view?...>`)."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip().encode("utf-8", "surrogatepass")
    token = request.rel_url.query.get(TOKEN_QUERY_PARAMETER)
    if token:
        return token.encode("utf-8", "surrogatepass")
    return None


def key_is_accepted(candidate: bytes, accepted: Sequence[bytes]) -> bool:
    """Whether `candidate` is one of the `accepted` keys, comparing in time that does not depend on where the bytes
    first differ (every key is compared, even after a match)."""
    matched = False
    for key in accepted:
        matched |= hmac.compare_digest(candidate, key)
    return matched


@dataclass(frozen=True)
class BrowserSessions:
    """The session cookie of one server process: its name and the value each accepted key signs in to.

    A value is HMAC-SHA256(secret, key) in hex, with a secret drawn per process, so a cookie reveals nothing about
    the key, cannot be made without the key, and stops working when the server restarts."""

    cookie_name: str
    secret: bytes

    @classmethod
    def create(cls) -> BrowserSessions:
        return cls(SESSION_COOKIE_PREFIX + secrets.token_hex(4), secrets.token_bytes(32))

    def value_for(self, key: bytes) -> str:
        return hmac.new(self.secret, key, hashlib.sha256).hexdigest()

    def is_valid(self, value: str, accepted: Sequence[bytes]) -> bool:
        """Whether the cookie `value` was issued for one of the `accepted` keys (compared in constant time)."""
        return key_is_accepted(value.encode("utf-8", "surrogatepass"),
                               [self.value_for(key).encode("ascii") for key in accepted])

    def sign_in(self, request: web.Request, key: bytes) -> web.Response:
        """A redirect from `/?token=KEY` to `/` (the other query parameters kept) that sets the session cookie;
        Secure when the request came over https (directly or, by `X-Forwarded-Proto`, through a proxy).

        A browser withholds a SameSite=Strict cookie from every hop of a navigation that another site started (a
        link clicked in a chat or a mail), so an HTTP redirect would land such a visit on a 401. For those
        (`Sec-Fetch-Site: cross-site`) the answer is a tiny page that moves on to `/` itself: a navigation this
        site starts, which carries the cookie."""
        rest = [(name, value) for name, value in request.rel_url.query.items() if name != TOKEN_QUERY_PARAMETER]
        # Relative, so a proxy that serves Kiln below a path prefix sends the browser back to that prefix.
        location = "./" + (f"?{urllib.parse.urlencode(rest)}" if rest else "")
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            target = html.escape(location, quote=True)
            response = web.Response(text=f'<!doctype html><meta http-equiv="refresh" content="0; url={target}">'
                                    f'<a href="{target}">Open Kiln</a>', content_type="text/html", headers=headers)
        else:
            response = web.Response(status=302, headers={"Location": location, **headers})
        forwarded_scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        response.set_cookie(self.cookie_name, self.value_for(key), path="/", httponly=True, samesite="Strict",
                            secure=request.secure or forwarded_scheme == "https" or None)
        return response


def _unauthorized(message: str) -> web.Response:
    details = ("Send the key as 'Authorization: Bearer <key>', or as the 'token' query parameter where headers "
               "cannot be set (WebSocket, image URLs). In a browser, open /?token=<key> once to sign in.")
    return json_error(401, "unauthorized", message, details, headers={"WWW-Authenticate": 'Bearer realm="kiln"'})


def _from_own_page(request: web.Request) -> bool:
    """Whether a request comes from one of this server's pages or from no page at all (no `Origin`)."""
    origin = request.headers.get("Origin")
    return origin is None or is_same_origin(request.headers.get("Host"), origin)


def create_api_key_middleware(accepted: Sequence[bytes]):
    """A middleware that answers 401 (JSON, `WWW-Authenticate: Bearer`) to every request without an accepted key
    or a valid session cookie, on every route (static files and the WebSocket upgrade included) except
    `PUBLIC_PATHS`. `GET /?token=KEY` with an accepted key signs a browser in (see `BrowserSessions.sign_in`)."""
    sessions = BrowserSessions.create()

    @web.middleware
    async def api_key_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        token = request.rel_url.query.get(TOKEN_QUERY_PARAMETER)
        if request.method == "GET" and request.path == SIGN_IN_PATH and token:
            key = token.encode("utf-8", "surrogatepass")
            if not key_is_accepted(key, accepted):
                return _unauthorized("Invalid API key")
            return sessions.sign_in(request, key)
        candidate = presented_key(request)
        if candidate is not None:
            if not key_is_accepted(candidate, accepted):
                return _unauthorized("Invalid API key")
            return await handler(request)
        session = request.cookies.get(sessions.cookie_name)
        if session is None:
            return _unauthorized("Missing API key")
        if not sessions.is_valid(session, accepted):
            return _unauthorized("Invalid or expired session; open /?token=<key> again to sign in")
        if not _from_own_page(request):
            return json_error(403, "origin_not_allowed", "Session cookie sent from another origin",
                              "The session cookie is only accepted from this server's own pages; other pages must "
                              "send the key as 'Authorization: Bearer <key>'.")
        return await handler(request)

    return api_key_middleware


# ---------------------------------------------------------------------------------------------------------------
# Loopback and exposure


def is_loopback_host(host: str) -> bool:
    """Whether a host name or IP literal (brackets allowed) is this machine only: `localhost`, 127.0.0.0/8, ::1,
    and IPv4-mapped loopback (`::ffff:127.0.0.1`)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def warn_if_exposed(addresses: Iterable[str], has_keys: bool) -> None:
    """Log a warning for each non-loopback listen address when no API key protects the server."""
    if has_keys:
        return
    for address in addresses:
        if not is_loopback_host(address):
            logging.warning(
                "WARNING: Kiln listens on %s, which other machines can reach, and no API key is set: anyone who "
                "can reach this port can run workflows and read and write your files. Start it with --api-key KEY "
                "(or --api-keys-file PATH), or listen on 127.0.0.1.", address)


# ---------------------------------------------------------------------------------------------------------------
# Origin check


def _canonical_host(host: str) -> str:
    """A host name lowercased, or an IP literal in its canonical text (so `[0:0::1]` and `[::1]` compare equal)."""
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host.lower()


def _origin_endpoint(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an `Origin` header a browser could send, else None (`null`, other schemes, paths,
    user info, bad ports)."""
    try:
        parts = urllib.parse.urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return parts.scheme, _canonical_host(parts.hostname), port if port is not None else DEFAULT_PORTS[parts.scheme]


def _host_endpoint(host: str, scheme: str) -> tuple[str, int] | None:
    """(host, port) of a `Host` header; a missing port is the default of `scheme`, the scheme the client used
    (a browser leaves the port out of both `Host` and `Origin` exactly when it is that scheme's default)."""
    try:
        parts = urllib.parse.urlsplit(f"//{host}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path:
        return None
    return _canonical_host(parts.hostname), port if port is not None else DEFAULT_PORTS[scheme]


def is_same_origin(host: str | None, origin: str) -> bool:
    """Whether a request sent to `Host: host` with `Origin: origin` comes from a page of this server.

    Host name and port must match; the scheme need not, since behind a TLS proxy the server cannot tell it, and no
    page of another origin can be served from this server's own host and port."""
    origin_endpoint = _origin_endpoint(origin)
    if host is None or origin_endpoint is None:
        return False
    scheme, origin_host, origin_port = origin_endpoint
    return _host_endpoint(host, scheme) == (origin_host, origin_port)


def create_origin_only_middleware():
    """Refuse (403) browser requests from pages of another origin (CSRF, cross-site WebSocket hijacking); answer
    preflight `OPTIONS` with an empty 200. Requests without `Origin` (non-browser clients, same-origin GETs) pass."""

    @web.middleware
    async def origin_only_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None:
            host = request.headers.get("Host")
            if not is_same_origin(host, origin):
                logging.warning("WARNING: request with non matching host and origin %s != %s, returning 403",
                                host, origin)
                return json_error(403, "origin_not_allowed", "Cross-origin request refused",
                                  f"Origin {origin} does not match host {host}; start the server with "
                                  "--enable-cors-header ORIGIN to allow pages of another origin.")
        if request.method == "OPTIONS":
            return web.Response()
        return await handler(request)

    return origin_only_middleware
