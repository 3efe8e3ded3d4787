"""Primitive nodes (comfy_extras/nodes_primitive.py): each returns its value under utils/primitive."""

from __future__ import annotations

import pytest

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
    cls = nodes_primitive.NODE_CLASS_MAPPINGS[name]

    assert getattr(cls(), cls.FUNCTION)(value=value) == (value,)
    assert cls.RETURN_TYPES == (socket,)
    assert cls.INPUT_TYPES()["required"]["value"][0] == socket
    assert cls.CATEGORY == "utils/primitive"
    assert nodes_primitive.NODE_DISPLAY_NAME_MAPPINGS[name] == display


def test_multiline_string_primitive_asks_for_a_multiline_widget():
    options = nodes_primitive.PrimitiveStringMultiline.INPUT_TYPES()["required"]["value"][1]

    assert options == {"multiline": True}
    assert len(nodes_primitive.PrimitiveString.INPUT_TYPES()["required"]["value"]) == 1
