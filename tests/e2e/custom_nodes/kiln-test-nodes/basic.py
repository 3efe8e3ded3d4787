"""Cheap integer and string nodes: graph shapes, caching, failures and every kind of validation error."""

from .common import CATEGORY, next_execution_number


class KilnTestInt:
    """A constant integer."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    def run(self, value):
        return (value,)


class KilnTestIntAdd:
    """a + b."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("INT", {"default": 0}), "b": ("INT", {"default": 0})}}

    def run(self, a, b):
        return (a + b,)


class KilnTestIntOutput:
    """Output node: shows its integer as `{"ui": {"value": [value]}}`."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    def run(self, value):
        return {"ui": {"value": [value]}}


class KilnTestSumOutput:
    """Output node: shows a + b (the leaves of the wide-graph test)."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"a": ("INT", {"default": 0}), "b": ("INT", {"default": 0})}}

    def run(self, a, b):
        return {"ui": {"value": [a + b]}}


class KilnTestCountingOutput:
    """Output node that numbers its executions: ui `{"value": [value], "executions": [n]}`.

    `n` grows on every real execution in the server process, so a cache hit (which re-sends the stored ui)
    shows the old number.
    """

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    def run(self, value):
        return {"ui": {"value": [value], "executions": [next_execution_number()]}}


class KilnTestString:
    """A constant string."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("STRING", {"default": ""})}}

    def run(self, value):
        return (value,)


class KilnTestStringOutput:
    """Output node: shows the length of its text (not the text, which may be megabytes)."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"default": "", "multiline": True})}}

    def run(self, text):
        return {"ui": {"length": [len(text)]}}


class KilnTestBounded:
    """An integer that must lie in [0, 100]."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 50, "min": 0, "max": 100})}}

    def run(self, value):
        return (value,)


class KilnTestCombo:
    """A choice among three colours (a V1 combo: the input type is the list of options)."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"choice": (["red", "green", "blue"], {"default": "red"})}}

    def run(self, choice):
        return (choice,)


class KilnTestBigCombo:
    """A choice among 25 options: over 20, so validation reports the list by its length."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"choice": ([f"option_{index:02d}" for index in range(25)], {"default": "option_00"})}}

    def run(self, choice):
        return (choice,)


class KilnTestRaise:
    """Raises `ValueError(message)` when it runs."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"message": ("STRING", {"default": "boom"})}, "optional": {"value": ("INT", {"default": 0})}}

    def run(self, message, value=None):
        raise ValueError(message)


class KilnTestValidated:
    """Output node with VALIDATE_INPUTS: `value` must be even; a negative value makes the validator itself raise.

    Because `value` is an argument of VALIDATE_INPUTS, the declared max of 100 is not checked.
    """

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0, "min": 0, "max": 100})}}

    @classmethod
    def VALIDATE_INPUTS(cls, value):
        if value < 0:
            raise RuntimeError("validator exploded")
        if value % 2:
            return f"{value} is odd"
        return True

    def run(self, value):
        return {"ui": {"value": [value]}}


class KilnTestIsChanged:
    """Output node whose IS_CHANGED is NaN (`mode` "nan": always re-run) or the text of the file at `path`."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0}), "mode": (["nan", "file"], {"default": "nan"}),
                             "path": ("STRING", {"default": ""})}}

    @classmethod
    def IS_CHANGED(cls, value, mode, path):
        if mode == "nan":
            return float("NaN")
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    def run(self, value, mode, path):
        return {"ui": {"value": [value], "executions": [next_execution_number()]}}


class KilnTestHiddenInputs:
    """Output node that shows what its hidden inputs received: its id, the prompt's node ids, extra_pnginfo."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ()
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})},
                "hidden": {"unique_id": "UNIQUE_ID", "prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    def run(self, value, unique_id=None, prompt=None, extra_pnginfo=None):
        prompt_nodes = sorted(prompt) if isinstance(prompt, dict) else None
        return {"ui": {"unique_id": [unique_id], "prompt_nodes": [prompt_nodes], "extra_pnginfo": [extra_pnginfo]}}


NODE_CLASS_MAPPINGS = {
    "KilnTestInt": KilnTestInt,
    "KilnTestIntAdd": KilnTestIntAdd,
    "KilnTestIntOutput": KilnTestIntOutput,
    "KilnTestSumOutput": KilnTestSumOutput,
    "KilnTestCountingOutput": KilnTestCountingOutput,
    "KilnTestString": KilnTestString,
    "KilnTestStringOutput": KilnTestStringOutput,
    "KilnTestBounded": KilnTestBounded,
    "KilnTestCombo": KilnTestCombo,
    "KilnTestBigCombo": KilnTestBigCombo,
    "KilnTestRaise": KilnTestRaise,
    "KilnTestValidated": KilnTestValidated,
    "KilnTestIsChanged": KilnTestIsChanged,
    "KilnTestHiddenInputs": KilnTestHiddenInputs,
}
