"""List nodes: one that outputs a list (OUTPUT_IS_LIST) and one that takes whole lists (INPUT_IS_LIST)."""

from .common import CATEGORY


class KilnTestIntRange:
    """Outputs the list `[start, start + 1, ..., start + count - 1]`; downstream nodes run once per element."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    OUTPUT_IS_LIST = (True,)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"start": ("INT", {"default": 0}), "count": ("INT", {"default": 3, "min": 0, "max": 1000})}}

    def run(self, start, count):
        return (list(range(start, start + count)),)


class KilnTestIntListSum:
    """Sums a whole list in one call (INPUT_IS_LIST): `values` arrives as a list."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    INPUT_IS_LIST = True
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"values": ("INT", {"default": 0})}}

    def run(self, values):
        return (sum(values),)


NODE_CLASS_MAPPINGS = {
    "KilnTestIntRange": KilnTestIntRange,
    "KilnTestIntListSum": KilnTestIntListSum,
}
