"""V3 nodes that run: integers in, integers and ui out, with every way a V3 node can behave."""

import asyncio

import torch

import comfy.utils
from comfy_api.latest import io, ui
from comfy_execution.graph_utils import GraphBuilder

CATEGORY = "kiln_test/v3"


class KilnTestV3Int(io.ComfyNode):
    """A constant integer."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Int", category=CATEGORY,
                         inputs=[io.Int.Input("value", default=0, min=-(2 ** 31), max=2 ** 31)],
                         outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value):
        return io.NodeOutput(value)


class KilnTestV3Sum(io.ComfyNode):
    """a + b, shown as text on the node."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Sum", display_name="Kiln Test V3 Sum", category=CATEGORY,
                         inputs=[io.Int.Input("a", default=0), io.Int.Input("b", default=0)],
                         outputs=[io.Int.Output(display_name="sum")])

    @classmethod
    def execute(cls, a, b):
        return io.NodeOutput(a + b, ui=ui.PreviewText(str(a + b)))


class KilnTestV3Show(io.ComfyNode):
    """Output node: shows its integer and the hidden values it was given."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Show", category=CATEGORY, is_output_node=True,
                         inputs=[io.Int.Input("value", force_input=True)],
                         hidden=[io.Hidden.unique_id, io.Hidden.dynprompt, io.Hidden.auth_token_comfy_org,
                                 io.Hidden.api_key_comfy_org])

    @classmethod
    def execute(cls, value):
        hidden = cls.hidden
        prompt = hidden.prompt or {}
        return io.NodeOutput(ui={
            "value": [value],
            "unique_id": [hidden.unique_id],
            "prompt_class": [prompt.get(hidden.unique_id, {}).get("class_type")],
            "extra_pnginfo": [hidden.extra_pnginfo],
            "dynprompt_node": [hidden.dynprompt.get_node(hidden.unique_id)["class_type"]],
            "auth_token": [hidden.auth_token_comfy_org],
            "api_key": [hidden.api_key_comfy_org],
            "class_name": [cls.__name__],
        })


class KilnTestV3Tuple(io.ComfyNode):
    """Returns a plain tuple and None-returning variants are normalized: (value * 3,)."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Tuple", category=CATEGORY,
                         inputs=[io.Int.Input("value", default=0)], outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value):
        return (value * 3,)


class KilnTestV3Switch(io.ComfyNode):
    """Lazy switch: only the chosen branch is evaluated."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Switch", category=CATEGORY,
                         inputs=[io.Boolean.Input("choose_a", default=True),
                                 io.Int.Input("a", lazy=True, optional=True),
                                 io.Int.Input("b", lazy=True, optional=True)],
                         outputs=[io.Int.Output()])

    @classmethod
    def check_lazy_status(cls, choose_a, a=None, b=None):
        if choose_a:
            return ["a"] if a is None else []
        return ["b"] if b is None else []

    @classmethod
    def execute(cls, choose_a, a=None, b=None):
        return io.NodeOutput(a if choose_a else b)


class KilnTestV3Fail(io.ComfyNode):
    """Raises: a branch that must not run."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Fail", category=CATEGORY,
                         inputs=[io.Int.Input("value", default=0)], outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value):
        raise ValueError(f"KilnTestV3Fail ran with {value}")


class KilnTestV3AsyncDouble(io.ComfyNode):
    """async execute: reports progress step by step, then returns value * 2.

    (`ComfyAPI().execution.set_progress` would be the V3 way, but ComfyUI 0.3.64's API objects have no
    `execution` attribute, so the recorded run uses the ProgressBar that both servers route.)"""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3AsyncDouble", category=CATEGORY,
                         inputs=[io.Int.Input("value", default=0), io.Int.Input("steps", default=2, min=1, max=20)],
                         outputs=[io.Int.Output()])

    @classmethod
    async def execute(cls, value, steps):
        progress = comfy.utils.ProgressBar(steps)
        for _ in range(steps):
            await asyncio.sleep(0.01)
            progress.update(1)
        return io.NodeOutput(value * 2)


class KilnTestV3Even(io.ComfyNode):
    """value // 2; validate_inputs refuses odd values, fingerprint_inputs keys the cache on the value."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Even", category=CATEGORY,
                         inputs=[io.Int.Input("value", default=0)], outputs=[io.Int.Output()])

    @classmethod
    def validate_inputs(cls, value):
        if value % 2:
            return f"{value} is odd"
        return True

    @classmethod
    def fingerprint_inputs(cls, value):
        return value

    @classmethod
    def execute(cls, value):
        return io.NodeOutput(value // 2)


class KilnTestV3Lists(io.ComfyNode):
    """Takes the whole list of values: their sum, and each value doubled as a list."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Lists", category=CATEGORY, is_input_list=True,
                         inputs=[io.Int.Input("values", force_input=True)],
                         outputs=[io.Int.Output(display_name="sum"),
                                  io.Int.Output(display_name="doubled", is_output_list=True)])

    @classmethod
    def execute(cls, values):
        return io.NodeOutput(sum(values), [value * 2 for value in values])


class KilnTestV3Range(io.ComfyNode):
    """0 .. count-1 as a list output."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Range", category=CATEGORY,
                         inputs=[io.Int.Input("count", default=3, min=1, max=100)],
                         outputs=[io.Int.Output(is_output_list=True)])

    @classmethod
    def execute(cls, count):
        return io.NodeOutput(list(range(count)))


class KilnTestV3ExpandSum(io.ComfyNode):
    """Expands to a chain of KilnTestV3Sum nodes adding 1, `times` times, to value."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3ExpandSum", category=CATEGORY, enable_expand=True,
                         inputs=[io.Int.Input("value", default=0), io.Int.Input("times", default=2, min=1, max=10)],
                         outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value, times):
        graph = GraphBuilder()
        current = value
        for _ in range(times):
            current = graph.node("KilnTestV3Sum", a=current, b=1).out(0)
        return io.NodeOutput(current, expand=graph.finalize())


class KilnTestV3Block(io.ComfyNode):
    """Blocks its output with a message (NodeOutput(block_execution=...)) when `block` is set."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Block", category=CATEGORY,
                         inputs=[io.Int.Input("value", default=0), io.Boolean.Input("block", default=True)],
                         outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value, block):
        return io.NodeOutput(value, block_execution="blocked by KilnTestV3Block" if block else None)


class KilnTestV3SetAttribute(io.ComfyNode):
    """Tries to set a class attribute during execute, which a V3 call does not allow."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3SetAttribute", category=CATEGORY,
                         inputs=[io.Int.Input("value", default=0)], outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value):
        cls.last_value = value
        return io.NodeOutput(value)


class KilnTestV3Preview(io.ComfyNode):
    """Output node: a width x height image of one grey level, previewed through ui.PreviewImage."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3Preview", category=CATEGORY, is_output_node=True,
                         inputs=[io.Int.Input("width", default=8, min=1, max=64),
                                 io.Int.Input("height", default=4, min=1, max=64),
                                 io.Int.Input("level", default=128, min=0, max=255)],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, width, height, level):
        image = torch.full((1, height, width, 3), level / 255.0)
        return io.NodeOutput(image, ui=ui.PreviewImage(image, cls=cls))


NODES = [KilnTestV3Int, KilnTestV3Sum, KilnTestV3Show, KilnTestV3Tuple, KilnTestV3Switch, KilnTestV3Fail,
         KilnTestV3AsyncDouble, KilnTestV3Even, KilnTestV3Lists, KilnTestV3Range, KilnTestV3ExpandSum,
         KilnTestV3Block, KilnTestV3SetAttribute, KilnTestV3Preview]
