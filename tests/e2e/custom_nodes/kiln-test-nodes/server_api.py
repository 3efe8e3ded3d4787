"""Nodes and hooks that use the server-facing names custom nodes rely on: `PromptServer.instance` (routes,
send_sync, on_prompt handlers) and the `comfy_api` progress API."""

from aiohttp import web

from comfy_api.v0_0_2 import ComfyAPI, ComfyAPISync
from server import PromptServer

from .common import CATEGORY

routes = PromptServer.instance.routes


@routes.get("/kiln_test/hello")
async def hello(request: web.Request) -> web.Response:
    return web.json_response({"hello": "from a custom node"})


def tag_prompts(json_data: dict) -> dict:
    """An on_prompt handler: rewrites KilnTestTagged nodes' `tag` input before validation."""
    for node in (json_data.get("prompt") or {}).values():
        if isinstance(node, dict) and node.get("class_type") == "KilnTestTagged":
            node.setdefault("inputs", {})["tag"] = "rewritten by on_prompt"
    return json_data


PromptServer.instance.add_on_prompt_handler(tag_prompts)


class Tagged:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"tag": ("STRING", {"default": ""})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, tag):
        return {"ui": {"tag": [tag]}}


class Announce:
    """Sends a custom WebSocket message through PromptServer.instance.send_sync, to this prompt's client."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"default": "hi"})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    def run(self, text):
        server = PromptServer.instance
        server.send_sync("kiln_test.announce", {"text": text}, server.client_id)
        return {"ui": {"text": [text]}}


class ApiProgress:
    """Reports progress through comfy_api: the async API from an async node, the sync one from a plain node."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"steps": ("INT", {"default": 3, "min": 1, "max": 100}),
                             "use_async": ("BOOLEAN", {"default": True})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True
    CATEGORY = CATEGORY

    async def run(self, steps, use_async):
        for step in range(1, steps + 1):
            if use_async:
                await ComfyAPI().execution.set_progress(step, steps)
            else:
                ComfyAPISync().execution.set_progress(step, steps)
        return {"ui": {"steps": [steps]}}


NODE_CLASS_MAPPINGS = {"KilnTestTagged": Tagged, "KilnTestAnnounce": Announce, "KilnTestApiProgress": ApiProgress}
