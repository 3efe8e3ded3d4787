"""Nodes that expand into sub-graphs built with GraphBuilder: a for-loop over an accumulator, a recursive sum,
and one whose expansion contains a cycle."""

from comfy_execution.graph_utils import GraphBuilder

from .common import CATEGORY


class KilnTestAccumulate:
    """Appends `value` to the accumulation (a new one when none is linked)."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("ACCUMULATION",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}, "optional": {"accumulation": ("ACCUMULATION",)}}

    def run(self, value, accumulation=None):
        previous = accumulation["values"] if accumulation is not None else []
        return ({"values": previous + [value]},)


class KilnTestAccumulationSum:
    """The sum and the number of the accumulated values."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT", "INT")
    RETURN_NAMES = ("sum", "count")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"accumulation": ("ACCUMULATION",)}}

    def run(self, accumulation):
        return (sum(accumulation["values"]), len(accumulation["values"]))


class KilnTestForLoop:
    """Expands into `count` chained KilnTestAccumulate nodes (values start, start + step, ...) and a final
    KilnTestAccumulationSum: ids `<this id>.0.0.1` ... `<this id>.0.0.<count>`, then `<this id>.0.0.<count + 1>`.
    With `show`, a KilnTestIntOutput showing the sum is added as `<this id>.0.0.<count + 2>`."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("ACCUMULATION", "INT")
    RETURN_NAMES = ("accumulation", "sum")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "start": ("INT", {"default": 0}),
            "count": ("INT", {"default": 3, "min": 1, "max": 1000}),
            "step": ("INT", {"default": 1}),
        }, "optional": {"show": ("BOOLEAN", {"default": False})}}

    def run(self, start, count, step, show=False):
        graph = GraphBuilder()
        accumulate = None
        for index in range(count):
            inputs = {"value": start + index * step}
            if accumulate is not None:
                inputs["accumulation"] = accumulate.out(0)
            accumulate = graph.node("KilnTestAccumulate", **inputs)
        total = graph.node("KilnTestAccumulationSum", accumulation=accumulate.out(0))
        if show:
            # An output node inside the expansion runs although nothing links to it.
            graph.node("KilnTestIntOutput", value=total.out(0))
        return {"result": (accumulate.out(0), total.out(0)), "expand": graph.finalize()}


class KilnTestRecursiveSum:
    """total + remaining + (remaining - 1) + ... + 1, one expansion per step: each level expands into an add and a
    nested KilnTestRecursiveSum, so ids nest (`5.0.0.2.0.0.1`)."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"remaining": ("INT", {"default": 3, "min": 0, "max": 100}), "total": ("INT", {"default": 0})}}

    def run(self, remaining, total):
        if remaining == 0:
            return (total,)
        graph = GraphBuilder()
        add = graph.node("KilnTestIntAdd", a=total, b=remaining)
        nested = graph.node("KilnTestRecursiveSum", remaining=remaining - 1, total=add.out(0))
        return {"result": (nested.out(0),), "expand": graph.finalize()}


class KilnTestCycleExpand:
    """Expands into two adds that feed each other: a dependency cycle only visible at run time."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    def run(self, value):
        graph = GraphBuilder()
        first = graph.node("KilnTestIntAdd", b=value)
        second = graph.node("KilnTestIntAdd", a=first.out(0), b=1)
        first.set_input("a", second.out(0))
        return {"result": (first.out(0),), "expand": graph.finalize()}


NODE_CLASS_MAPPINGS = {
    "KilnTestAccumulate": KilnTestAccumulate,
    "KilnTestAccumulationSum": KilnTestAccumulationSum,
    "KilnTestForLoop": KilnTestForLoop,
    "KilnTestRecursiveSum": KilnTestRecursiveSum,
    "KilnTestCycleExpand": KilnTestCycleExpand,
}
