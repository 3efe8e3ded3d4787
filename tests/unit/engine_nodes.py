"""Small V1 nodes for the graph-engine unit tests, registered by the `engine_nodes` fixture."""

from __future__ import annotations

import asyncio
import time

from comfy_execution.graph import ExecutionBlocker
from comfy_execution.graph_utils import GraphBuilder

CALLS: list[str] = []


class Int:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": -(2**31), "max": 2**31})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value):
        CALLS.append("Int")
        return (value,)


class Add:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("INT", {}), "b": ("INT", {"default": 1})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, a, b):
        CALLS.append("Add")
        return (a + b,)


class Output:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    def run(self, value):
        CALLS.append("Output")
        return {"ui": {"value": [value]}}


class Fail:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value):
        raise ValueError(f"boom {value}")


class LazySwitch:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"choose_a": ("BOOLEAN", {}), "a": ("INT", {"lazy": True}),
                             "b": ("INT", {"lazy": True})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def check_lazy_status(self, choose_a, a=None, b=None):
        wanted = "a" if choose_a else "b"
        return [wanted] if (a if choose_a else b) is None else []

    def run(self, choose_a, a=None, b=None):
        return (a if choose_a else b,)


class Block:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {}), "message": ("STRING", {"default": ""})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value, message):
        return (ExecutionBlocker(message or None),)


class Repeat:
    """Expands into `count` chained Add nodes: value + count."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {}), "count": ("INT", {"default": 3, "min": 1, "max": 100})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, value, count):
        graph = GraphBuilder()
        current = value
        for _ in range(count):
            current = graph.node("EngineAdd", a=current, b=1).out(0)
        return {"result": (current,), "expand": graph.finalize()}


class ListOut:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"count": ("INT", {"default": 3})}}

    RETURN_TYPES = ("INT",)
    OUTPUT_IS_LIST = (True,)
    FUNCTION = "run"

    def run(self, count):
        return (list(range(count)),)


class Sum:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"values": ("INT", {})}}

    RETURN_TYPES = ("INT",)
    INPUT_IS_LIST = True
    FUNCTION = "run"

    def run(self, values):
        return (sum(values),)


class Sleep:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {}), "seconds": ("FLOAT", {"default": 0.2})}}

    RETURN_TYPES = ("FLOAT", "FLOAT")
    FUNCTION = "run"

    async def run(self, value, seconds):
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        return (start, time.perf_counter())


class Span:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"start": ("FLOAT", {}), "end": ("FLOAT", {})}}

    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    def run(self, start, end):
        return {"ui": {"span": [[start, end]]}}


class Choice:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pick": (["x", "y"], {}), "value": ("INT", {})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    def run(self, pick, value):
        return (value,)


class Validated:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def VALIDATE_INPUTS(cls, value):
        return True if value is None or value % 2 == 0 else "value must be even"

    def run(self, value):
        return (value,)


class Text:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {})}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"

    def run(self, text):
        return (text,)


ENGINE_NODES = {
    "EngineInt": Int, "EngineAdd": Add, "EngineOutput": Output, "EngineFail": Fail, "EngineLazySwitch": LazySwitch,
    "EngineBlock": Block, "EngineRepeat": Repeat, "EngineListOut": ListOut, "EngineSum": Sum,
    "EngineSleep": Sleep, "EngineSpan": Span, "EngineChoice": Choice, "EngineValidated": Validated,
    "EngineText": Text,
}
