"""/system_stats and /features: what this server runs on and what it supports."""

from __future__ import annotations

import os
import sys
from typing import Any

import torch
from aiohttp import web

import comfy.model_management
from comfy.cli_args import args

KILN_VERSION = "0.1.0"
# The ComfyUI release whose API Kiln follows; clients and the frontend compare against it.
COMFYUI_COMPATIBLE_VERSION = "0.3.64"


def system_stats() -> dict:
    device = comfy.model_management.get_torch_device()
    ram_total, ram_free = comfy.model_management.system_memory()
    vram_total = comfy.model_management.get_total_memory(device)
    vram_free = comfy.model_management.get_free_memory(device)
    return {
        "system": {
            "os": os.name,
            "ram_total": ram_total,
            "ram_free": ram_free,
            "comfyui_version": COMFYUI_COMPATIBLE_VERSION,
            "kiln_version": KILN_VERSION,
            "required_frontend_version": "",
            "installed_templates_version": "",
            "required_templates_version": "",
            "python_version": sys.version,
            "pytorch_version": torch.__version__,
            "embedded_python": os.path.split(os.path.split(sys.executable)[0])[1] == "python_embeded",
            "argv": sys.argv,
        },
        "devices": [{
            "name": comfy.model_management.get_torch_device_name(device),
            "type": device.type,
            "index": device.index,
            "vram_total": vram_total,
            "vram_free": vram_free,
            "torch_vram_total": vram_total,
            "torch_vram_free": vram_free,
        }],
    }


def server_feature_flags() -> dict:
    """The flags the server announces on /features and in reply to a client's feature_flags message."""
    return {"supports_preview_metadata": True, "max_upload_size": float(args.max_upload_size * 1024 * 1024)}


def add_system_routes(routes: web.RouteTableDef, server: Any) -> None:
    @routes.get("/system_stats")
    async def get_system_stats(request: web.Request) -> web.Response:
        stats = system_stats()
        runner = server.prompt_queue.runner if server.prompt_queue is not None else None
        workers = runner.workers() if runner is not None else None
        if workers is not None:  # --ray: every worker, with its device, memory, models and current job
            stats["workers"] = workers
        return web.json_response(stats)

    @routes.get("/features")
    async def get_features(request: web.Request) -> web.Response:
        return web.json_response(server_feature_flags())
