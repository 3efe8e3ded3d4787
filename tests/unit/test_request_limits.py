"""app/request_limits.py: JSON bodies within the nesting limit, and every bad body a JsonBodyError."""

from __future__ import annotations

import pytest

from app.request_limits import JsonBodyError, json_depth, parse_json_body


@pytest.mark.parametrize(("value", "depth"), [(1, 0), ("s", 0), ([], 1), ({"a": 1}, 1), ({"a": [1, {"b": []}]}, 4)])
def test_json_depth_counts_nested_arrays_and_objects(value, depth):
    assert json_depth(value) == depth


def test_json_depth_of_a_very_deep_value_needs_no_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert json_depth(value) == 100_001


def test_a_body_at_the_limit_is_parsed_and_one_level_more_is_refused():
    body = b'{"prompt": {"1": {"inputs": {"a": [1, 2]}}}}'
    assert parse_json_body(body, max_depth=5) == {"prompt": {"1": {"inputs": {"a": [1, 2]}}}}
    with pytest.raises(JsonBodyError):
        parse_json_body(body, max_depth=4)


@pytest.mark.parametrize("depth", [65, 900, 5000, 200_000])
def test_a_body_nested_past_the_limit_is_json_too_deep(depth):
    with pytest.raises(JsonBodyError) as raised:
        parse_json_body("[" * depth + "]" * depth, max_depth=64)
    assert raised.value.error_type == "json_too_deep"
    assert "--max-json-depth" in str(raised.value)


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"1" * 5000, "{\"a\": 1e5}x".encode(), b""])
def test_malformed_bodies_are_invalid_json(body):
    with pytest.raises(JsonBodyError) as raised:
        parse_json_body(body)
    assert raised.value.error_type == "invalid_json"
