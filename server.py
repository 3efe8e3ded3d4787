"""`PromptServer`: the aiohttp application, its middlewares, route registration (each route also under /api),
and the WebSocket hub that delivers the executor's messages to clients in order.

Custom nodes rely on `PromptServer.instance`, `.routes`, `.app`, `.loop`, `.send_sync`, `.send_json`,
`.send_progress_text`, `.client_id`, `.last_node_id`, `.prompt_queue` and `.add_on_prompt_handler`; those
names are kept exactly. The server is the event sink of this process's executor and hears of every queue change
(`attach_queue`); the queue and the executor never reach for it. In a process without a server (a Ray worker,
`main.py run`), `PromptServer.instance` is the stand-in that process installed (comfy_execution/server_stand_in.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from io import BytesIO
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from app.access import create_api_key_middleware, create_origin_only_middleware, read_api_keys, warn_if_exposed
from app.errors import json_error
from app.request_limits import JsonBodyError, parse_json_body
from app.system_routes import server_feature_flags
from comfy.cli_args import args
from comfy_execution.job_events import JobEventLog
from comfy_execution.server_stand_in import installed_server_stand_in, progress_text_payload
from protocol import BinaryEventTypes

if TYPE_CHECKING:
    from app.webhook_delivery import WebhookDispatcher
    from comfy_execution.prompt_queue import PromptQueue

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


@web.middleware
async def cache_control(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    path = request.path
    if path.endswith((".js", ".css")) or (path.rsplit("/", 1)[-1].startswith("index") and path.endswith(".json")):
        response.headers.setdefault("Cache-Control", "no-cache")
    elif path.lower().endswith(IMAGE_EXTENSIONS):
        if response.status == 404:
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        elif response.status in (200, 201, 202, 203, 204, 205, 206, 301, 308):
            response.headers.setdefault("Cache-Control", "public, max-age=86400")
        elif response.status in (302, 303, 307):
            response.headers.setdefault("Cache-Control", "no-cache")
    return response


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer aiohttp's own HTTP errors (413, 405, 404 of unknown routes) and unexpected exceptions with a JSON
    body in ComfyUI's error shape, so a client can always parse the answer."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge as too_large:
        return json_error(413, "request_too_large", "Request body too large",
                          f"The limit is {args.max_upload_size} MB (--max-upload-size). {too_large.text}")
    except web.HTTPException as http_error:
        if http_error.status < 400 or http_error.content_type == "application/json":
            raise
        error_type = {404: "not_found", 405: "method_not_allowed"}.get(http_error.status, "http_error")
        return json_error(http_error.status, error_type, http_error.reason, http_error.text or "",
                          headers={key: value for key, value in http_error.headers.items()
                                   if key.lower() in ("allow", "retry-after")})
    except asyncio.CancelledError:
        raise
    except Exception as ex:
        logging.exception("Error handling %s %s", request.method, request.path)
        return json_error(500, "internal_error", "Internal server error", f"{type(ex).__name__}: {ex}")


def create_cors_middleware(allowed_origin: str):
    @web.middleware
    async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response()
        else:
            response = await handler(request)
        response.headers["Access-Control-Allow-Origin"] = allowed_origin
        response.headers["Access-Control-Allow-Methods"] = "POST, GET, DELETE, PUT, OPTIONS, PATCH"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    return cors_middleware


class ClientChannel:
    """One client's outgoing messages, sent in order by a task of its own, so a slow or stalled client never
    holds up the others (ComfyUI sends to every client from one loop, and one stuck socket stalls them all).

    A client that leaves more than MAX_PENDING_BYTES unread is disconnected rather than allowed to grow the
    server's memory without bound.
    """

    MAX_PENDING_BYTES = 64 * 1024 * 1024

    def __init__(self, sid: str, ws: web.WebSocketResponse):
        self.sid = sid
        self.ws = ws
        self.pending: deque[str | bytes] = deque()
        self.pending_bytes = 0
        self.closed = False
        self.wakeup = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    def push(self, message: str | bytes) -> None:
        if self.closed:
            return
        if self.pending_bytes + len(message) > self.MAX_PENDING_BYTES:
            logging.warning("Client %s left %d MB unread on its WebSocket; disconnecting it", self.sid,
                            self.pending_bytes // (1024 * 1024))
            self.close()
            self.task.get_loop().create_task(self.ws.close())
            return
        self.pending.append(message)
        self.pending_bytes += len(message)
        self.wakeup.set()

    def close(self) -> None:
        self.closed = True
        self.pending.clear()
        self.wakeup.set()

    async def _run(self) -> None:
        while not self.closed:
            if not self.pending:
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            message = self.pending.popleft()
            self.pending_bytes -= len(message)
            try:
                if isinstance(message, bytes):
                    await self.ws.send_bytes(message)
                else:
                    await self.ws.send_str(message)
            except Exception as ex:  # the client went away: stop sending to it, never raise into the server
                logging.debug("Could not send to client %s: %s", self.sid, ex)
                self.close()


class _ProcessServer:
    """`PromptServer.instance`: the process's server once one is made; in a process that runs prompts without one,
    the stand-in it installed (a Ray worker, `main.py run`). Neither: AttributeError, as in ComfyUI."""

    def __get__(self, obj: object, owner: type[PromptServer]) -> Any:
        server = owner.created or installed_server_stand_in()
        if server is None:
            raise AttributeError("PromptServer.instance exists once the server is created")
        return server


class PromptServer:
    """The HTTP and WebSocket server. One per process: `PromptServer.instance`."""

    instance: Any = _ProcessServer()
    created: PromptServer | None = None

    def __init__(self, loop: asyncio.AbstractEventLoop):
        PromptServer.created = self
        self.loop = loop
        self.messages: asyncio.Queue = asyncio.Queue()
        self.client_session = None
        self.number = 0
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.channels: dict[str, ClientChannel] = {}
        self.sockets_metadata: dict[str, dict[str, Any]] = {}
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self.last_prompt_id: str | None = None
        self.prompt_queue: PromptQueue | None = None
        self.job_events: JobEventLog | None = None
        self.webhooks: WebhookDispatcher | None = None
        self.supports = ["custom_nodes_from_web"]
        self.on_prompt_handlers: list[Callable[[dict], dict]] = []
        self.routes = web.RouteTableDef()
        self.api_keys = read_api_keys(args.api_key, args.api_keys_file)
        middlewares = [cache_control, json_errors]
        if args.enable_cors_header:
            middlewares.append(create_cors_middleware(args.enable_cors_header))
        else:
            middlewares.append(create_origin_only_middleware())
        if self.api_keys:
            # Inside the CORS/origin middleware: preflight OPTIONS (which never carries a key) is answered there.
            middlewares.append(create_api_key_middleware(self.api_keys))
        self.app = web.Application(client_max_size=int(args.max_upload_size * 1024 * 1024),
                                   middlewares=middlewares)
        self.routes.get("/ws")(self.websocket_handler)

    # -- WebSocket --------------------------------------------------------------------------------------------

    async def websocket_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1024 * 1024)
        await ws.prepare(request)
        sid = request.rel_url.query.get("clientId", "") or uuid.uuid4().hex
        self.sockets[sid] = ws
        self.sockets_metadata[sid] = {"feature_flags": {}}
        channel = ClientChannel(sid, ws)
        self.channels[sid] = channel
        try:
            await self.send("status", {"status": self.get_queue_info(), "sid": sid}, sid)
            if self.client_id == sid and self.last_node_id is not None:
                await self.send("executing", {"node": self.last_node_id}, sid)
            first_message = True
            async for message in ws:
                if message.type == WSMsgType.ERROR:
                    logging.warning("ws connection closed with exception %s", ws.exception())
                    break
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    data = parse_json_body(message.data)
                except JsonBodyError as error:
                    logging.warning("Ignored a WebSocket message from client %s: %s", sid, error)
                    continue
                if first_message and isinstance(data, dict) and data.get("type") == "feature_flags":
                    flags = data.get("data")
                    self.sockets_metadata[sid]["feature_flags"] = flags if isinstance(flags, dict) else {}
                    await self.send("feature_flags", server_feature_flags(), sid)
                first_message = False
        finally:
            channel.close()
            if self.sockets.get(sid) is ws:
                self.sockets.pop(sid, None)
                self.sockets_metadata.pop(sid, None)
                self.channels.pop(sid, None)
        return ws

    def client_supports(self, sid: str | None, feature: str) -> bool:
        if sid is None:
            return False
        return bool(self.sockets_metadata.get(sid, {}).get("feature_flags", {}).get(feature, False))

    # -- sending ----------------------------------------------------------------------------------------------

    def attach_queue(self, queue: PromptQueue) -> None:
        """Serve `queue`: every change to it is announced to all clients (`status`), and new prompts are numbered
        on after its stored ones."""
        self.prompt_queue = queue
        self.number = max(self.number, queue.store.next_number())
        queue.add_change_listener(self.queue_updated)
        self.job_events = JobEventLog(queue.store)
        queue.add_finish_listener(self.job_events.finish)
        self.webhooks = self._webhook_dispatcher(queue)

    def _webhook_dispatcher(self, queue: PromptQueue) -> WebhookDispatcher:
        """Deliveries are written for the queue's jobs from now on; they are sent once `start_webhooks` runs."""
        import folder_paths
        from app.webhook_delivery import WebhookDispatcher
        from comfy_execution.webhooks import load_secret

        dispatcher = WebhookDispatcher(queue, load_secret(args.webhook_secret, folder_paths.get_user_directory()),
                                       args.webhook_allow_private)
        queue.add_finish_listener(dispatcher.on_job_finished)
        self.job_events.add_observer(dispatcher.on_job_event)
        return dispatcher

    def start_webhooks(self) -> None:
        if self.webhooks is not None:
            self.webhooks.start()

    async def stop_webhooks(self) -> None:
        if self.webhooks is not None:
            await self.webhooks.stop()

    def get_queue_info(self) -> dict[str, Any]:
        remaining = self.prompt_queue.get_tasks_remaining() if self.prompt_queue is not None else 0
        return {"exec_info": {"queue_remaining": remaining}}

    def queue_updated(self) -> None:
        self.send_sync("status", {"status": self.get_queue_info()})

    def send_sync(self, event: str | int, data: Any, sid: str | None = None) -> None:
        """Queue a message for delivery from any thread; delivered in order by `publish_loop`. A job's messages
        are also kept in its event log (GET /api/jobs/{id}/events)."""
        self.note_job_event(event, data)
        self.loop.call_soon_threadsafe(self.messages.put_nowait, (event, data, sid))

    def note_job_event(self, event: str | int, data: Any) -> None:
        """Keep a job's message in its event log without sending it (the executor's messages for a prompt no
        WebSocket client asked for)."""
        if self.job_events is not None:
            self.job_events.record(event, data)

    async def send(self, event: str | int, data: Any, sid: str | None = None) -> None:
        if event == BinaryEventTypes.UNENCODED_PREVIEW_IMAGE:
            await self.send_image(data, sid=sid)
        elif event == BinaryEventTypes.PREVIEW_IMAGE_WITH_METADATA:
            preview, metadata = data
            await self.send_image_with_metadata(preview, metadata, sid=sid)
        elif isinstance(data, (bytes, bytearray)):
            await self.send_bytes(event, data, sid)
        else:
            await self.send_json(event, data, sid)

    @staticmethod
    def encode_bytes(event: int, data: bytes) -> bytes:
        return struct.pack(">I", event) + data

    @staticmethod
    def _encode_preview(image_data: tuple) -> tuple[str, bytes]:
        from PIL import ImageOps

        image_type, image, max_size = image_data[0], image_data[1], image_data[2] if len(image_data) > 2 else None
        if max_size is not None:
            image = ImageOps.contain(image, (max_size, max_size))
        buffer = BytesIO()
        if image_type == "PNG":
            image.save(buffer, format="PNG", compress_level=1)
            return "image/png", buffer.getvalue()
        image.convert("RGB").save(buffer, format="JPEG", quality=95)
        return "image/jpeg", buffer.getvalue()

    async def send_image(self, image_data: tuple, sid: str | None = None) -> None:
        mime_type, image_bytes = self._encode_preview(image_data)
        image_format = 2 if mime_type == "image/png" else 1
        await self.send_bytes(BinaryEventTypes.PREVIEW_IMAGE, struct.pack(">I", image_format) + image_bytes, sid)

    async def send_image_with_metadata(self, image_data: tuple, metadata: dict | None = None,
                                       sid: str | None = None) -> None:
        mime_type, image_bytes = self._encode_preview(image_data)
        metadata = {**(metadata or {}), "image_type": mime_type}
        metadata_bytes = json.dumps(metadata).encode("utf-8")
        payload = struct.pack(">I", len(metadata_bytes)) + metadata_bytes + image_bytes
        await self.send_bytes(BinaryEventTypes.PREVIEW_IMAGE_WITH_METADATA, payload, sid)

    def send_progress_text(self, text: str | bytes, node_id: str, sid: str | None = None) -> None:
        self.send_sync(BinaryEventTypes.TEXT, progress_text_payload(text, node_id), sid)

    async def send_bytes(self, event: int, data: bytes, sid: str | None = None) -> None:
        message = self.encode_bytes(event, data)
        for channel in self._targets(sid):
            channel.push(message)

    async def send_json(self, event: str, data: Any, sid: str | None = None) -> None:
        message = json.dumps({"type": event, "data": data})
        for channel in self._targets(sid):
            channel.push(message)

    def _targets(self, sid: str | None) -> list[ClientChannel]:
        if sid is None:
            return list(self.channels.values())
        channel = self.channels.get(sid)
        return [channel] if channel is not None else []

    async def publish_loop(self) -> None:
        while True:
            event, data, sid = await self.messages.get()
            try:
                await self.send(event, data, sid)
            except Exception:
                logging.exception("Error sending %s", event)

    # -- routes -----------------------------------------------------------------------------------------------

    def add_on_prompt_handler(self, handler: Callable[[dict], dict]) -> None:
        self.on_prompt_handlers.append(handler)

    def trigger_on_prompt(self, json_data: dict) -> dict:
        for handler in self.on_prompt_handlers:
            try:
                json_data = handler(json_data)
            except Exception:
                logging.exception("[ERROR] An error occurred during the on_prompt_handler processing")
        return json_data

    def add_routes(self) -> None:
        """Register Kiln's routes and the custom nodes', each at `<path>` and at `/api<path>`."""
        from app.custom_node_routes import add_custom_node_routes
        from app.file_routes import add_file_routes
        from app.frontend_routes import add_frontend_routes, add_template_routes, describe_frontend, frontend_root
        from app.generate_routes import add_generate_routes
        from app.health_routes import add_health_routes
        from app.info_routes import add_extension_static_routes, add_info_routes
        from app.internal_routes import add_internal_routes
        from app.job_event_routes import add_job_event_routes
        from app.mask_layer_routes import add_mask_layer_routes
        from app.model_routes import add_model_routes
        from app.openapi import add_openapi_routes
        from app.prompt_routes import add_prompt_routes
        from app.system_routes import add_system_routes
        from app.user_routes import add_user_routes

        add_prompt_routes(self.routes, self)
        add_generate_routes(self.routes, self)
        add_job_event_routes(self.routes, self)
        add_file_routes(self.routes)
        web_root = frontend_root()
        add_info_routes(self.routes, web_root)
        add_custom_node_routes(self.routes)
        add_model_routes(self.routes)
        add_mask_layer_routes(self.routes)
        add_system_routes(self.routes, self)
        add_health_routes(self.routes, self)
        self.user_manager = add_user_routes(self.routes)

        api_routes = web.RouteTableDef()
        for route in self.routes:
            if isinstance(route, web.RouteDef):
                api_routes.route(route.method, "/api" + route.path, **route.kwargs)(route.handler)
        self.app.add_routes(api_routes)
        self.app.add_routes(self.routes)
        self.log_subscriptions = add_internal_routes(self.app, self)
        add_extension_static_routes(self.app)
        add_template_routes(self.app)
        add_openapi_routes(self.app)
        logging.info(describe_frontend(web_root))
        if web_root is None:
            self.app.router.add_get("/", self.index_handler)
        else:
            add_frontend_routes(self.app, web_root)  # last: its catch-all GET route takes every path left

    async def index_handler(self, request: web.Request) -> web.Response:
        return web.Response(text="Kiln is running. The web frontend is not installed; use the HTTP API.\n",
                            headers={"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "0"})

    async def start_multi_address(self, addresses: list[tuple[str, int]],
                                  call_on_start: Callable[[str, str, int], None] | None = None,
                                  verbose: bool = True) -> web.AppRunner:
        warn_if_exposed([address for address, _ in addresses], bool(self.api_keys))
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        ssl_context = None
        scheme = "http"
        if args.tls_keyfile and args.tls_certfile:
            import ssl

            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(certfile=args.tls_certfile, keyfile=args.tls_keyfile)
            scheme = "https"
        for address, port in addresses:
            site = web.TCPSite(runner, address, port, ssl_context=ssl_context)
            await site.start()
            if verbose:
                shown = f"[{address}]" if ":" in address else address
                logging.info("Starting server\n")
                logging.info("To see the GUI go to: %s://%s:%d", scheme, shown, port)
            if call_on_start is not None:
                call_on_start(scheme, address, port)
        return runner


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "an internal helper of ComfyUI's server"

compress_body = unsupported_function(__name__, 'compress_body', 'request, handler', _REASON)
is_loopback = unsupported_function(__name__, 'is_loopback', 'host', _REASON)
send_socket_catch_exception = unsupported_function(__name__, 'send_socket_catch_exception', 'function, message', _REASON)
