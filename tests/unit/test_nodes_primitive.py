"""Primitive nodes (comfy_extras/nodes_primitive.py, V3 as in ComfyUI): each returns its value under
utils/primitive."""

from __future__ import annotations

import pytest

from comfy_execution import node_loading
from comfy_extras import nodes_primitive

CASES = [
    ("PrimitiveString", "STRING", "hello", "String"),
    ("PrimitiveStringMultiline", "STRING", "a\nb", "String (Multiline)"),
    ("PrimitiveInt", "INT", -7, "Int"),
    ("PrimitiveFloat", "FLOAT", 2.5, "Float"),
    ("PrimitiveBoolean", "BOOLEAN", True, "Boolean"),
]


@pytest.mark.parametrize("name, socket, value, display", CASES)
def test_primitive_returns_its_value_with_declared_type(name, socket, value, display):
    cls = node_loading.module_node_classes(nodes_primitive)[name]

    assert getattr(cls(), cls.FUNCTION)(value=value).result == (value,)
    assert cls.RETURN_TYPES == [socket]
    assert cls.INPUT_TYPES()["required"]["value"][0] == socket
    assert cls.CATEGORY == "utils/primitive"
    assert cls.GET_SCHEMA().display_name == display


def test_multiline_string_primitive_asks_for_a_multiline_widget():
    assert nodes_primitive.StringMultiline.INPUT_TYPES()["required"]["value"][1] == {"multiline": True}
    assert nodes_primitive.String.INPUT_TYPES()["required"]["value"][1] == {"multiline": False}
