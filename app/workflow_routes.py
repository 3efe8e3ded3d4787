"""UI-format workflows on the server: `POST /workflow/convert` answers the API prompt of a workflow saved from the
editor, and `prompt_from_body` lets `POST /prompt` take one in place of `prompt` (comfy_execution/workflow_format
does the conversion)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.errors import json_error
from comfy_execution.node_info import RegisteredNodeInterfaces
from comfy_execution.workflow_format import WorkflowFormatError, convert_workflow, is_ui_workflow


def conversion_error(error: WorkflowFormatError) -> web.Response:
    """A 400 in ComfyUI's error shape naming the node (and the widget or input) the conversion stopped at."""
    extra_info: dict[str, Any] = {"node_id": error.node_id, "class_type": error.class_type}
    if error.input_name:
        extra_info["input_name"] = error.input_name
    body = {"error": {"type": "invalid_workflow", "message": "The workflow cannot be converted to a prompt",
                      "details": error.message, "extra_info": extra_info},
            "node_errors": {error.node_id: error.node_error()} if error.node_id else {}}
    return web.json_response(body, status=400)


def _convert(workflow: dict) -> dict:
    return convert_workflow(workflow, RegisteredNodeInterfaces())


async def prompt_from_body(json_data: dict) -> dict | web.Response | None:
    """The API prompt a POST /prompt body carries: its `prompt`; else its `workflow` (UI format), else the UI
    workflow in `extra_data.extra_pnginfo.workflow`, converted. None when there is none of them; a 400 response
    when the workflow cannot be converted. A converted `workflow` is also kept as `extra_pnginfo.workflow`, as the
    frontend sends it, so saved images embed it."""
    if "prompt" in json_data:
        return json_data["prompt"]
    extra_data = json_data.get("extra_data")
    pnginfo = extra_data.get("extra_pnginfo") if isinstance(extra_data, dict) else None
    workflow = json_data.get("workflow")
    if workflow is None and isinstance(pnginfo, dict):
        workflow = pnginfo.get("workflow")
    if workflow is None:
        return None
    if not is_ui_workflow(workflow):
        return json_error(400, "invalid_workflow", "workflow must be a workflow saved from the editor",
                          "A JSON object with 'nodes' (a list) and 'links'.")
    try:
        prompt = _convert(workflow)
    except WorkflowFormatError as error:
        return conversion_error(error)
    if isinstance(extra_data, dict):
        extra_data.setdefault("extra_pnginfo", {})
        if isinstance(extra_data["extra_pnginfo"], dict):
            extra_data["extra_pnginfo"].setdefault("workflow", workflow)
    elif "extra_data" not in json_data:
        json_data["extra_data"] = {"extra_pnginfo": {"workflow": workflow}}
    return prompt


def add_workflow_routes(routes: web.RouteTableDef, read_json_object: Any) -> None:
    @routes.post("/workflow/convert")
    async def post_convert(request: web.Request) -> web.Response:
        json_data = await read_json_object(request)
        if isinstance(json_data, web.Response):
            return json_data
        workflow = json_data.get("workflow", json_data)
        if not is_ui_workflow(workflow):
            return json_error(400, "invalid_workflow", "Expected a workflow saved from the editor",
                              "Send the UI-format workflow (with 'nodes' and 'links'), or {\"workflow\": ...}.")
        try:
            prompt = _convert(workflow)
        except WorkflowFormatError as error:
            return conversion_error(error)
        return web.json_response({"prompt": prompt})
