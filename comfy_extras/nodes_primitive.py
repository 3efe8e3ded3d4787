"""Primitive nodes: a widget value (int, float, string, boolean) as an output other nodes can link to."""

from __future__ import annotations

import sys

from comfy_api.latest import ComfyExtension, io

CATEGORY = "utils/primitive"


class String(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="PrimitiveString", display_name="String", category=CATEGORY,
                         inputs=[io.String.Input("value")], outputs=[io.String.Output()])

    @classmethod
    def execute(cls, value: str) -> io.NodeOutput:
        return io.NodeOutput(value)


class StringMultiline(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="PrimitiveStringMultiline", display_name="String (Multiline)", category=CATEGORY,
                         inputs=[io.String.Input("value", multiline=True)], outputs=[io.String.Output()])

    @classmethod
    def execute(cls, value: str) -> io.NodeOutput:
        return io.NodeOutput(value)


class Int(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="PrimitiveInt", display_name="Int", category=CATEGORY,
                         inputs=[io.Int.Input("value", min=-sys.maxsize, max=sys.maxsize,
                                              control_after_generate=True)],
                         outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value: int) -> io.NodeOutput:
        return io.NodeOutput(value)


class Float(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="PrimitiveFloat", display_name="Float", category=CATEGORY,
                         inputs=[io.Float.Input("value", min=-sys.maxsize, max=sys.maxsize)],
                         outputs=[io.Float.Output()])

    @classmethod
    def execute(cls, value: float) -> io.NodeOutput:
        return io.NodeOutput(value)


class Boolean(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="PrimitiveBoolean", display_name="Boolean", category=CATEGORY,
                         inputs=[io.Boolean.Input("value")], outputs=[io.Boolean.Output()])

    @classmethod
    def execute(cls, value: bool) -> io.NodeOutput:
        return io.NodeOutput(value)


class PrimitivesExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [String, StringMultiline, Int, Float, Boolean]


async def comfy_entrypoint() -> PrimitivesExtension:
    return PrimitivesExtension()
