"""Limits on what one request may ask of the server: JSON bodies nested deeper than `--max-json-depth` are
refused before any route sees them (Python's `json` would otherwise raise RecursionError on very deep input, and
every recursive walk of the value after it would be at risk too).
"""

from __future__ import annotations

import json
from typing import Any

from comfy.cli_args import args


class JsonBodyError(ValueError):
    """A request body that is not JSON (`error_type` "invalid_json") or is nested too deeply ("json_too_deep");
    `str()` says what is wrong."""

    def __init__(self, error_type: str, details: str) -> None:
        super().__init__(details)
        self.error_type = error_type


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value: 0 for a scalar, 1 for `[]` or `{"a": 1}`.
    Walks with an explicit stack, so any depth is safe to measure."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_json_body(body: bytes | str, max_depth: int | None = None) -> Any:
    """The JSON value of a request body, nested at most `max_depth` deep (default `--max-json-depth`);
    raises `JsonBodyError` for anything else."""
    limit = args.max_json_depth if max_depth is None else max_depth
    try:
        value = json.loads(body)
    except RecursionError:
        raise JsonBodyError("json_too_deep", f"The JSON nests arrays and objects deeper than the limit of {limit} "
                            "(--max-json-depth).") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, and integers too long to convert
        raise JsonBodyError("invalid_json", str(error)) from None
    depth = json_depth(value)
    if depth > limit:
        raise JsonBodyError("json_too_deep", f"The JSON nests arrays and objects {depth} deep; the limit is "
                            f"{limit} (--max-json-depth).")
    return value
