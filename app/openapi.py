"""The OpenAPI 3.1 document of the routes the server serves (GET /api/openapi.json), and an offline docs page
(GET /api/docs) that renders it with Swagger UI's files from the installed `swagger-ui-py` package (no CDN).

The document is made from the router itself when it is asked for, so every route is in it (ComfyUI's, Kiln's, and
those custom nodes add); the routes clients build on carry request and response schemas from `DESCRIBED` below,
the others a summary from their handler's docstring and the error shape every route shares.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any

from aiohttp import web

from app.system_routes import KILN_VERSION
from comfy.cli_args import args

OPENAPI_VERSION = "3.1.0"
_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")

ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "object", "required": ["type", "message"], "properties": {
        "type": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "string"},
        "extra_info": {"type": ["object", "null"]}}},
    "node_errors": {"type": "object"}}}
FILE_REF = {"type": "object", "required": ["filename"], "properties": {
    "filename": {"type": "string"}, "subfolder": {"type": "string"},
    "type": {"type": "string", "enum": ["output", "input", "temp"]}}}
API_PROMPT = {"type": "object", "description": "An API-format prompt: nodes by id, each with class_type and inputs "
                                               "(a link is [node id, output index]).",
              "additionalProperties": {"type": "object", "required": ["class_type"], "properties": {
                  "class_type": {"type": "string"}, "inputs": {"type": "object"}, "_meta": {"type": "object"}}}}
UI_WORKFLOW = {"type": "object", "description": "A workflow as the editor saves it (nodes, links, ...).",
               "required": ["nodes"], "properties": {"nodes": {"type": "array"}, "links": {"type": "array"}}}
QUEUED = {"type": "object", "required": ["prompt_id"], "properties": {
    "prompt_id": {"type": "string"}, "number": {"type": "number"}, "node_errors": {"type": "object"}}}
ACCEPTED = {"type": "object", "required": ["prompt_id", "job_url"], "properties": {
    "prompt_id": {"type": "string"}, "number": {"type": "number"}, "job_url": {"type": "string"}}}
WEBHOOK = {"description": "A URL to POST the job's result to (signed; see Kiln-Signature), or "
                          "{url, events: [finished, started]}",
           "oneOf": [{"type": "string"}, {"type": "object", "required": ["url"], "properties": {
               "url": {"type": "string"}, "events": {"type": "array", "items": {"enum": ["finished", "started"]}}}}]}
JOB = {"type": "object", "required": ["id", "status"], "properties": {
    "id": {"type": "string"}, "status": {"type": "string"}, "create_time": {"type": "integer"},
    "outputs_count": {"type": "integer"}}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# (method, path without /api) -> the operation's described parts. The /api twin of each path shares them.
DESCRIBED: dict[tuple[str, str], dict] = {
    ("POST", "/prompt"): {
        "summary": "Queue a prompt (API format, or a UI-format workflow) for execution",
        "requestBody": _body({"type": "object", "properties": {
            "prompt": API_PROMPT, "workflow": UI_WORKFLOW, "client_id": {"type": "string"},
            "prompt_id": {"type": "string"}, "number": {"type": "number"}, "front": {"type": "boolean"},
            "extra_data": {"type": "object"}, "webhook": WEBHOOK, "partial_execution_targets": {"type": "array",
                                                                            "items": {"type": "string"}}}}),
        "responses": {"200": _json(QUEUED), "202": _json(ACCEPTED, "Still running after ?wait= seconds"),
                      "400": _json(ERROR, "Invalid prompt"), "429": _json(ERROR, "Queue full"),
                      "503": _json(ERROR, "Shutting down, or the job store cannot be written")}},
    ("GET", "/prompt"): {"summary": "Queue status", "responses": {"200": _json({"type": "object", "properties": {
        "exec_info": {"type": "object", "properties": {"queue_remaining": {"type": "integer"}}}}})}},
    ("POST", "/generate"): {
        "summary": "Run a workflow with overrides and answer its first output file or its outputs",
        "requestBody": _body({"type": "object", "properties": {
            "workflow": {"description": "API or UI format, or the name of a saved workflow",
                         "oneOf": [API_PROMPT, UI_WORKFLOW, {"type": "string"}]},
            "set": {"type": "object", "description": "{\"NODE.INPUT\": value}"},
            "wait": {"type": "number", "minimum": 0}, "client_id": {"type": "string"}, "webhook": WEBHOOK}}),
        "responses": {
            "200": {"description": "The first output file (as the Accept header asks) or the outputs as JSON",
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "prompt_id": {"type": "string"}, "status": {"type": "string"}, "outputs": {"type": "object"},
                        "files": {"type": "array", "items": FILE_REF}}}},
                        "image/*": {"schema": {"type": "string", "contentMediaType": "image/*"}},
                        "video/*": {"schema": {"type": "string", "contentMediaType": "video/*"}},
                        "audio/*": {"schema": {"type": "string", "contentMediaType": "audio/*"}}}},
            "202": _json(ACCEPTED, "Not done within wait seconds"), "400": _json(ERROR, "Bad workflow or set"),
            "404": _json(ERROR, "No saved workflow of that name"), "406": _json(ERROR, "No output of that type"),
            "409": _json(ERROR, "Cancelled"), "500": _json(ERROR, "The run failed")}},
    ("GET", "/jobs/{job_id}/events"): {
        "summary": "A job's events as Server-Sent Events, replayed after Last-Event-ID",
        "parameters": [{"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "id / event / data frames, ending with event: end",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      "404": _json(ERROR, "No such job")}},
    ("GET", "/jobs/{job_id}"): {"summary": "One job: state, queue position, timings, outputs",
                                "responses": {"200": _json(JOB), "404": _json(ERROR, "No such job")}},
    ("GET", "/jobs"): {"summary": "Jobs, filtered by status and paged", "responses": {"200": _json({
        "type": "object", "properties": {"jobs": {"type": "array", "items": JOB}, "pagination": {"type": "object"}}}),
        "400": _json(ERROR)}},
    ("GET", "/history"): {"summary": "Finished prompts by id", "responses": {"200": _json({"type": "object"})}},
    ("GET", "/history/{prompt_id}"): {"summary": "One finished prompt",
                                      "responses": {"200": _json({"type": "object"})}},
    ("GET", "/queue"): {"summary": "The running and pending prompts", "responses": {"200": _json({
        "type": "object", "properties": {"queue_running": {"type": "array"}, "queue_pending": {"type": "array"}}})}},
    ("GET", "/view"): {"summary": "A file of the output, input or temp folder", "responses": {
        "200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string"}}}},
        "400": _json(ERROR), "403": _json(ERROR), "404": _json(ERROR)}},
    ("POST", "/upload/image"): {"summary": "Upload an image (or audio/video) to the input folder",
                                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                                    "type": "object", "required": ["image"], "properties": {
                                        "image": {"type": "string", "contentMediaType": "application/octet-stream"},
                                        "type": {"type": "string"}, "subfolder": {"type": "string"},
                                        "overwrite": {"type": "string"}}}}}},
                                "responses": {"200": _json({"type": "object", "properties": {
                                    "name": {"type": "string"}, "subfolder": {"type": "string"},
                                    "type": {"type": "string"}}}), "400": _json(ERROR)}},
    ("GET", "/object_info"): {"summary": "Every node class's interface",
                              "responses": {"200": _json({"type": "object"})}},
    ("GET", "/system_stats"): {"summary": "Versions, devices and memory",
                               "responses": {"200": _json({"type": "object"})}},
    ("GET", "/openapi.json"): {"summary": "This document", "responses": {"200": _json({"type": "object"})}},
}


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root"
    return f"{method.lower()}_{words}"


def _describe(method: str, path: str, handler: Any) -> dict:
    plain = path[len("/api"):] if path.startswith("/api/") else path
    described = DESCRIBED.get((method, plain))
    doc = (getattr(handler, "__doc__", None) or "").strip()
    operation: dict[str, Any] = {"operationId": _operation_id(method, path),
                                 "summary": doc.splitlines()[0] if doc else f"{method} {plain}",
                                 "responses": {"200": {"description": "OK"},
                                               "default": _json(ERROR, "An error, in ComfyUI's shape")}}
    if described is not None:
        operation.update({key: value for key, value in described.items() if key != "parameters"})
        operation["responses"] = {**described.get("responses", {}),
                                  "default": _json(ERROR, "An error, in ComfyUI's shape")}
    names = _PARAMETER.findall(path)
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]
    parameters += (described or {}).get("parameters", [])
    if parameters:
        operation["parameters"] = parameters
    return operation


def openapi_path(canonical: str) -> str:
    """aiohttp's `{name:regex}` templates as OpenAPI's `{name}`."""
    return _PARAMETER.sub(lambda match: "{" + match.group(1) + "}", canonical)


def served_operations(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every route the router serves, HEAD twins of GET routes left out."""
    found = set()
    for route in app.router.routes():
        if route.resource is None or route.method in ("HEAD", "*"):
            continue
        found.add((route.method, openapi_path(route.resource.canonical)))
    return found


def openapi_document(app: web.Application) -> dict:
    paths: dict[str, dict] = {}
    for route in app.router.routes():
        if route.resource is None or route.method in ("HEAD", "*"):
            continue
        path = openapi_path(route.resource.canonical)
        paths.setdefault(path, {})[route.method.lower()] = _describe(route.method, path, route.handler)
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Kiln", "version": KILN_VERSION,
                 "description": "ComfyUI's HTTP API as Kiln serves it, with Kiln's own routes (/api/generate, "
                                "/api/jobs, job events). Every route is also served under /api."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {"Error": ERROR, "FileRef": FILE_REF, "ApiPrompt": API_PROMPT}},
    }
    if args.api_key or args.api_keys_file:
        document["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "token": {"type": "apiKey", "in": "query", "name": "token"}}
        document["security"] = [{"bearer": []}, {"token": []}]
    return document


def swagger_ui_folder() -> str | None:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "static")
    return folder if os.path.isfile(os.path.join(folder, "swagger-ui-bundle.js")) else None


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kiln API</title>
<link rel="stylesheet" href="docs/static/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="docs/static/swagger-ui-bundle.js"></script>
<script src="docs/kiln-docs.js"></script></body></html>
"""
DOCS_SCRIPT = "window.ui = SwaggerUIBundle({url: 'openapi.json', dom_id: '#docs'});\n"


def add_openapi_routes(app: web.Application) -> None:
    """GET /api/openapi.json, and /api/docs with Swagger UI's files served from the installed package."""

    async def get_openapi(request: web.Request) -> web.Response:
        """This document"""
        return web.json_response(openapi_document(request.app))

    async def get_docs(request: web.Request) -> web.Response:
        """The API's docs page (Swagger UI, served offline)"""
        if swagger_ui_folder() is None:
            return web.Response(text="The docs page needs the swagger-ui-py package; the document itself is at "
                                     "/api/openapi.json.\n", status=404)
        return web.Response(text=DOCS_PAGE, content_type="text/html")

    async def get_docs_script(request: web.Request) -> web.Response:
        """The docs page's start-up script"""
        return web.Response(text=DOCS_SCRIPT, content_type="application/javascript")

    app.router.add_get("/api/openapi.json", get_openapi)
    app.router.add_get("/api/docs", get_docs)
    app.router.add_get("/api/docs/kiln-docs.js", get_docs_script)
    folder = swagger_ui_folder()
    if folder is not None:
        app.router.add_static("/api/docs/static", folder, follow_symlinks=False)
