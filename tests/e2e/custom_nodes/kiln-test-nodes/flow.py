"""Control-flow nodes: a lazy switch (`check_lazy_status`) and an ExecutionBlocker source."""

import asyncio

from comfy.comfy_types import IO
from comfy_execution.graph import ExecutionBlocker

from .common import CATEGORY


class KilnTestLazySwitch:
    """Returns `on_true` or `on_false`; both inputs are lazy, so only the chosen branch is evaluated."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "switch": ("BOOLEAN", {"default": True}),
            "on_true": ("INT", {"default": 0, "lazy": True}),
            "on_false": ("INT", {"default": 0, "lazy": True}),
        }}

    def check_lazy_status(self, switch, on_true=None, on_false=None):
        if switch:
            return ["on_true"] if on_true is None else []
        return ["on_false"] if on_false is None else []

    def run(self, switch, on_true=None, on_false=None):
        return (on_true if switch else on_false,)


class KilnTestBlocker:
    """Passes `value` through, or blocks everything downstream when `block` is true.

    An empty `message` blocks silently (`ExecutionBlocker(None)`); otherwise the first node that receives the
    blocker reports an `execution_error` of type ExecutionBlocked carrying the message.
    """

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "value": ("INT", {"default": 0}),
            "block": ("BOOLEAN", {"default": True}),
            "message": ("STRING", {"default": ""}),
        }}

    def run(self, value, block, message):
        if block:
            return (ExecutionBlocker(message or None),)
        return (value,)


NODE_CLASS_MAPPINGS = {
    "KilnTestLazySwitch": KilnTestLazySwitch,
    "KilnTestBlocker": KilnTestBlocker,
}


class KilnTestAsyncLazyAny:
    """ComfyUI's execution tests' async lazy check: two lazy inputs of any type (`*`), an `async def
    check_lazy_status` that asks only for the one `condition` picks, and the picked value as the output."""

    CATEGORY = CATEGORY
    RETURN_TYPES = (IO.ANY,)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "input1": (IO.ANY, {"lazy": True}),
            "input2": (IO.ANY, {"lazy": True}),
            "condition": ("BOOLEAN", {"default": True}),
        }}

    async def check_lazy_status(self, condition, input1=None, input2=None):
        await asyncio.sleep(0.01)
        if condition:
            return ["input1"] if input1 is None else []
        return ["input2"] if input2 is None else []

    async def run(self, condition, input1=None, input2=None):
        await asyncio.sleep(0.01)
        return (input1 if condition else input2,)


NODE_CLASS_MAPPINGS["KilnTestAsyncLazyAny"] = KilnTestAsyncLazyAny
