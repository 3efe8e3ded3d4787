"""POST /api/generate: one call from inputs to outputs.

The body names a workflow (API or UI format; the name of a saved workflow in the caller's workflow library or
the server's `workflows/` folder; or nothing, for the server's default text-to-image workflow), `set` overrides
(`{"NODE.INPUT": value}`, as `main.py run --set`), `wait` seconds and a `client_id`. The prompt goes through
`/prompt`'s path (limits, validation, the durable queue). Once it is done the answer is the first output file
(when the `Accept` header asks for its media type) or JSON with the outputs and their `/view` URLs; a job not
done within `wait` is a 202 with its job URL.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import urllib.parse
from typing import TYPE_CHECKING, Any

from aiohttp import web

from app import file_access
from app.errors import json_error
from app.file_access import FileRequestError
from app.file_routes import served_content_type
from app.prompt_routes import MAX_WAIT_SECONDS, queue_prompt_body, read_json_object, wait_until_finished
from app.workflow_routes import conversion_error
from comfy.cli_args import args
from comfy_execution.node_info import RegisteredNodeInterfaces
from comfy_execution.workflow_format import WorkflowFormatError, convert_workflow, is_ui_workflow
from comfy_execution.workflow_inputs import SettingError, declared_inputs, set_input, split_target

if TYPE_CHECKING:
    from server import PromptServer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_WORKFLOWS = os.path.join(REPO_ROOT, "workflows")
DEFAULT_WAIT_SECONDS = 60.0


class GenerateError(Exception):
    """A request /api/generate refuses: its response."""

    def __init__(self, response: web.Response):
        super().__init__(response.text)
        self.response = response


def _bad_request(error_type: str, message: str, details: str = "", **extra_info: Any) -> GenerateError:
    return GenerateError(json_error(400, error_type, message, details, extra_info or None))


def default_workflow_name() -> str:
    return args.default_workflow or "demo_txt2img"


def _read_json_file(path: str, name: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _bad_request("invalid_workflow", f"The saved workflow {name!r} cannot be read", str(error)) from None
    if not isinstance(data, dict):
        raise _bad_request("invalid_workflow", f"The saved workflow {name!r} is not a JSON object")
    return data


def named_workflow(server: PromptServer, request: web.Request, name: str) -> dict:
    """The saved workflow `name` (".json" optional): the caller's workflow library first, then the server's
    `workflows/` folder."""
    file_name = name if name.endswith(".json") else name + ".json"
    try:
        library = server.user_manager.request_path(request, f"workflows/{file_name}").real
    except (FileRequestError, KeyError):
        library = None
    if library is not None and os.path.isfile(library):
        return _read_json_file(library, name)
    try:
        shipped = file_access.confined_path(SERVER_WORKFLOWS, file_name)
    except FileRequestError:
        shipped = None
    if shipped is not None and os.path.isfile(shipped):
        return _read_json_file(shipped, name)
    raise GenerateError(json_error(404, "workflow_not_found", f"No saved workflow named {name!r}",
                                   "Looked in your workflow library (user data workflows/) and the server's "
                                   "workflows/ folder."))


def api_prompt(workflow: dict) -> tuple[dict, dict | None]:
    """(the API prompt, the UI workflow it came from or None) of a workflow object in any accepted form."""
    if isinstance(workflow.get("prompt"), dict):  # a saved /prompt body
        workflow = workflow["prompt"]
    if is_ui_workflow(workflow):
        try:
            return convert_workflow(workflow, RegisteredNodeInterfaces()), workflow
        except WorkflowFormatError as error:
            raise GenerateError(conversion_error(error)) from None
    if not workflow or not all(isinstance(node, dict) and "class_type" in node for node in workflow.values()):
        raise _bad_request("invalid_workflow", "workflow must be an API-format prompt, a UI-format workflow or "
                                               "the name of a saved workflow",
                           "An API prompt is a JSON object of nodes by id, each with a class_type.")
    return json.loads(json.dumps(workflow)), None


def apply_set(prompt: dict, settings: Any) -> None:
    """Apply `{"NODE.INPUT": value}` to `prompt`; a 400 naming the node and input for any that does not fit."""
    if settings is None:
        return
    if not isinstance(settings, dict):
        raise _bad_request("invalid_set", "set must be a JSON object of \"NODE.INPUT\": value",
                           f"Got a JSON {type(settings).__name__}.")
    for target, value in settings.items():
        try:
            node_id, input_name = split_target(target)
            for node in prompt.values():
                node.setdefault("inputs", {})
            set_input(prompt, node_id, input_name, value, as_text=False, declared_inputs=declared_inputs)
        except SettingError as error:
            node_id, _, input_name = target.partition(".")
            raise _bad_request("invalid_set", "A set entry names no node or input of the workflow", str(error),
                               node_id=node_id, input_name=input_name) from None


def wait_seconds(body: dict) -> float:
    value = body.get("wait", DEFAULT_WAIT_SECONDS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _bad_request("invalid_wait", "wait must be a number of seconds, 0 or more", repr(value))
    return min(float(value), MAX_WAIT_SECONDS)


def output_files(entry: dict) -> list[dict]:
    """Every file a finished job's outputs name (`{filename, subfolder, type}`), saved files before previews, in
    the order of the output nodes."""
    found = []
    for node_id, ui in (entry.get("outputs") or {}).items():
        for key, values in ui.items():
            for value in values if isinstance(values, list) else []:
                if isinstance(value, dict) and isinstance(value.get("filename"), str):
                    found.append({"node_id": node_id, "kind": key, "filename": value["filename"],
                                  "subfolder": value.get("subfolder", ""), "type": value.get("type", "output")})
    found.sort(key=lambda file: file["type"] != "output")
    for file in found:
        query = urllib.parse.urlencode({"filename": file["filename"], "subfolder": file["subfolder"],
                                        "type": file["type"]})
        file["url"] = f"/api/view?{query}"
        file["content_type"] = served_content_type(file["filename"])
    return found


def _wanted_media(request: web.Request) -> list[str]:
    """The media types the Accept header asks for, in its order, leaving out JSON and `*/*` (which get JSON)."""
    accept = [part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")]
    return [media for media in accept if media and media not in ("*/*", "application/json")]


def _accepted_file(wanted: list[str], files: list[dict]) -> dict | None:
    """The first file whose media type is one of `wanted` (exactly, or as `type/*`)."""
    for media in wanted:
        for file in files:
            kind = file["content_type"]
            if media == kind or (media.endswith("/*") and kind.startswith(media[:-1])):
                return file
    return None


def _failure(prompt_id: str, entry: dict) -> web.Response:
    """The job ran and failed (500: the request was valid) or was cancelled (409)."""
    status = entry.get("status") or {}
    messages = {name: data for name, data in status.get("messages") or [] if isinstance(data, dict)}
    if "execution_error" in messages:
        data = messages["execution_error"]
        return json_error(500, "execution_error", f"{data.get('node_type')} (node {data.get('node_id')}) failed",
                          str(data.get("exception_message", "")),
                          {"prompt_id": prompt_id, "node_id": data.get("node_id"),
                           "node_type": data.get("node_type"), "exception_type": data.get("exception_type")})
    return json_error(409, "cancelled", "The job was cancelled before it finished", "",
                      {"prompt_id": prompt_id})


async def answer_finished(request: web.Request, prompt_id: str, entry: dict) -> web.StreamResponse:
    if (entry.get("status") or {}).get("status_str") != "success":
        return _failure(prompt_id, entry)
    files = output_files(entry)
    wanted = _wanted_media(request)
    if not wanted:
        return web.json_response({"prompt_id": prompt_id, "status": "success", "outputs": entry.get("outputs"),
                                  "files": files})
    chosen = _accepted_file(wanted, files)
    if chosen is None:
        return json_error(406, "no_output_file", "The job finished without an output file of the asked type",
                          f"Accept: {request.headers.get('Accept')}; the outputs: "
                          f"{', '.join(file['filename'] for file in files) or 'no files'}",
                          {"prompt_id": prompt_id, "files": files})
    try:
        target = await asyncio.to_thread(file_access.resolve_view_file, chosen["filename"], chosen["type"],
                                         chosen["subfolder"])
    except FileRequestError as error:
        return error.response()
    quoted = target.name.replace('"', '\\"')
    return web.FileResponse(target.path, headers={
        "Content-Type": chosen["content_type"], "Content-Disposition": f'inline; filename="{quoted}"',
        "X-Content-Type-Options": "nosniff", "X-Prompt-Id": prompt_id})


def add_generate_routes(routes: web.RouteTableDef, server: PromptServer) -> None:
    @routes.post("/generate")
    async def post_generate(request: web.Request) -> web.StreamResponse:
        """Run a workflow with `set` overrides and answer with its first output file or its outputs."""
        queue = server.prompt_queue
        if queue.draining:
            return json_error(503, "shutting_down", "The server is shutting down",
                              "It takes no new prompts now; send it again once it is back.",
                              headers={"Retry-After": "10"})
        body = await read_json_object(request, allow_empty=True)
        if isinstance(body, web.Response):
            return body
        try:
            workflow = body.get("workflow", default_workflow_name())
            if isinstance(workflow, str):
                workflow = named_workflow(server, request, workflow)
            elif not isinstance(workflow, dict):
                raise _bad_request("invalid_workflow", "workflow must be a JSON object or a saved workflow's name")
            prompt, ui_workflow = api_prompt(workflow)
            apply_set(prompt, body.get("set"))
            seconds = wait_seconds(body)
        except GenerateError as refused:
            return refused.response
        prompt_body: dict[str, Any] = {"prompt": prompt}
        if ui_workflow is not None:
            prompt_body["extra_data"] = {"extra_pnginfo": {"workflow": ui_workflow}}
        for key in ("client_id", "webhook"):
            if body.get(key) is not None:
                prompt_body[key] = body[key]
        idempotency_key = request.headers.get("Idempotency-Key") or None
        queued = await queue_prompt_body(server, prompt_body, idempotency_key)
        if isinstance(queued, web.Response):
            return queued
        job, _ = queued
        if not await wait_until_finished(queue, job.prompt_id, seconds):
            job_url = f"/api/jobs/{job.prompt_id}"
            return web.json_response({"prompt_id": job.prompt_id, "number": job.number, "job_url": job_url},
                                     status=202, headers={"Location": job_url})
        entry = queue.get_history(prompt_id=job.prompt_id).get(job.prompt_id) or {}
        return await answer_finished(request, job.prompt_id, entry)
