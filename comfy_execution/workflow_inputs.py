"""Changing a workflow's inputs by name: `NODE.INPUT=VALUE`, as `main.py run --set` and `POST /api/generate`'s
`set` take them.

A value given as text takes the type of the input's current value ("42" for an INT is 42, "true" for a BOOLEAN
is True, a link is `["node", slot]` in JSON); a value given as JSON (`set` of /api/generate) is used as it is,
except that text for a number or a boolean input is read the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any


class SettingError(ValueError):
    """A setting that names no node or input of the workflow, or a value of the wrong type; the message says
    which (`target` is the `NODE.INPUT` text)."""

    def __init__(self, target: str, message: str):
        super().__init__(f"{target}: {message}" if target else message)
        self.target = target


def split_setting(setting: str) -> tuple[str, str, str]:
    """`NODE.INPUT=VALUE` as (node id, input name, value text)."""
    target, equals, raw = setting.partition("=")
    node_id, input_name = split_target(target) if equals else ("", "")
    if not equals or not node_id:
        raise SettingError("", f"expects NODE.INPUT=VALUE (for example 6.text=\"a red circle\"), got {setting!r}")
    return node_id, input_name, raw


def split_target(target: str) -> tuple[str, str]:
    """`NODE.INPUT` as (node id, input name); SettingError when either part is missing."""
    node_id, dot, input_name = target.partition(".")
    if not dot or not node_id or not input_name:
        raise SettingError(target, "expects NODE.INPUT (for example 6.text)")
    return node_id, input_name


def _from_text(raw: str, current: Any, target: str) -> Any:
    """`raw` as the type of the input's current value."""
    try:
        if isinstance(current, bool):
            if raw.lower() in ("true", "1", "yes"):
                return True
            if raw.lower() in ("false", "0", "no"):
                return False
            raise ValueError(raw)
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, str):
            return raw
        if isinstance(current, list):  # a link: ["node id", slot]
            value = json.loads(raw)
            if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)):
                raise ValueError(raw)
            return [str(value[0]), value[1]]
    except ValueError:
        raise SettingError(target, f"{raw!r} is not a valid {type(current).__name__} "
                                   f"(the workflow has {current!r})") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def set_input(prompt: dict[str, Any], node_id: str, input_name: str, value: Any, *, as_text: bool,
              declared_inputs: Callable[[str], Iterable[str]] | None = None) -> None:
    """Set one input of an API-format `prompt` in place. `declared_inputs(class_type)` may name the inputs a
    node class accepts beyond those the workflow sets (None: only the workflow's own)."""
    target = f"{node_id}.{input_name}"
    if node_id not in prompt:
        raise SettingError(target, f"the workflow has no node {node_id!r} "
                                   f"(its nodes: {', '.join(sorted(prompt, key=node_order))})")
    node = prompt[node_id]
    known = set(node["inputs"]) | set(declared_inputs(node["class_type"]) if declared_inputs else ())
    if input_name not in known:
        raise SettingError(target, f"node {node_id} ({node['class_type']}) has no input {input_name!r} "
                                   f"(its inputs: {', '.join(sorted(known)) or 'none'})")
    current = node["inputs"].get(input_name)
    if as_text or (isinstance(value, str) and isinstance(current, (bool, int, float)) and current is not None):
        value = _from_text(value if isinstance(value, str) else json.dumps(value), current, target)
    node["inputs"][input_name] = value


def node_order(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 62, node_id)


def declared_inputs(class_type: str) -> list[str]:
    """The required and optional input names of a registered node class (none for an unknown or broken one)."""
    import nodes

    node_class = nodes.NODE_CLASS_MAPPINGS.get(class_type)
    if node_class is None:
        return []
    try:
        declared = node_class.INPUT_TYPES()
    except Exception:  # the validator reports a broken node class properly
        return []
    return [name for section in ("required", "optional") for name in (declared.get(section) or {})]
