"""Primitive nodes: a widget value (int, float, string, boolean) as an output other nodes can link to."""

from __future__ import annotations

import sys


class _Primitive:
    """Returns its one `value` input unchanged."""

    CATEGORY = "utils/primitive"
    FUNCTION = "execute"

    def execute(self, value):
        return (value,)


class PrimitiveString(_Primitive):
    RETURN_TYPES = ("STRING",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("STRING",)}}


class PrimitiveStringMultiline(_Primitive):
    RETURN_TYPES = ("STRING",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("STRING", {"multiline": True})}}


class PrimitiveInt(_Primitive):
    RETURN_TYPES = ("INT",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"min": -sys.maxsize, "max": sys.maxsize,
                                               "control_after_generate": True})}}


class PrimitiveFloat(_Primitive):
    RETURN_TYPES = ("FLOAT",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("FLOAT", {"min": -sys.maxsize, "max": sys.maxsize})}}


class PrimitiveBoolean(_Primitive):
    RETURN_TYPES = ("BOOLEAN",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("BOOLEAN",)}}


NODE_CLASS_MAPPINGS = {
    "PrimitiveString": PrimitiveString,
    "PrimitiveStringMultiline": PrimitiveStringMultiline,
    "PrimitiveInt": PrimitiveInt,
    "PrimitiveFloat": PrimitiveFloat,
    "PrimitiveBoolean": PrimitiveBoolean,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "PrimitiveString": "String",
    "PrimitiveStringMultiline": "String (Multiline)",
    "PrimitiveInt": "Int",
    "PrimitiveFloat": "Float",
    "PrimitiveBoolean": "Boolean",
}
