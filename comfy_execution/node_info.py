"""The `/object_info` description of node classes, in ComfyUI's exact per-node JSON shape (V1 nodes).

Key order matters to clients that diff it: input, input_order, output, output_is_list, output_name, name,
display_name, description, python_module, category, output_node, then only when the class sets them:
output_tooltips, deprecated, experimental, api_node.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator, Mapping
from typing import Any

import folder_paths


def _node_registry():
    import nodes  # deferred: nodes imports torch and the node loader

    return nodes


def _to_json(value: Any) -> Any:
    """Tuples to lists, recursively, so the result is plain JSON data."""
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(item) for item in value]
    return value


def node_info(node_class: str) -> dict[str, Any]:
    """The /object_info entry of one registered node class; KeyError if the class is not registered.

    Calls the class's INPUT_TYPES(), so combo lists of files are current. A class that provides its own
    `GET_NODE_INFO_V1()` (V3 nodes) is asked for it instead.
    """
    registry = _node_registry()
    cls = registry.NODE_CLASS_MAPPINGS[node_class]
    if callable(getattr(cls, "GET_NODE_INFO_V1", None)):
        return cls.GET_NODE_INFO_V1()

    input_types = _to_json(cls.INPUT_TYPES())
    outputs = _to_json(getattr(cls, "RETURN_TYPES", ()))
    info: dict[str, Any] = {
        "input": input_types,
        "input_order": {category: list(names) for category, names in input_types.items()},
        "output": outputs,
        "output_is_list": _to_json(getattr(cls, "OUTPUT_IS_LIST", [False] * len(outputs))),
        "output_name": _to_json(getattr(cls, "RETURN_NAMES", outputs)),
        "name": node_class,
        "display_name": registry.NODE_DISPLAY_NAME_MAPPINGS.get(node_class, node_class),
        "description": getattr(cls, "DESCRIPTION", ""),
        "python_module": getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes"),
        "category": getattr(cls, "CATEGORY", "sd"),
        "output_node": bool(getattr(cls, "OUTPUT_NODE", False)),
    }
    if hasattr(cls, "OUTPUT_TOOLTIPS"):
        info["output_tooltips"] = _to_json(cls.OUTPUT_TOOLTIPS)
    if getattr(cls, "DEPRECATED", False):
        info["deprecated"] = True
    if getattr(cls, "EXPERIMENTAL", False):
        info["experimental"] = True
    if hasattr(cls, "API_NODE"):
        info["api_node"] = cls.API_NODE
    return info


def all_node_info() -> dict[str, dict[str, Any]]:
    """{class name: node_info} for every registered node, in registration order.

    A node whose description cannot be built (INPUT_TYPES raises, or returns something JSON cannot hold) is
    logged with its traceback and left out, so one broken custom node does not break the whole listing.
    """
    result: dict[str, dict[str, Any]] = {}
    with folder_paths.cache_helper:
        for name in list(_node_registry().NODE_CLASS_MAPPINGS):
            try:
                info = node_info(name)
                json.dumps(info)
            except Exception:
                logging.error("[ERROR] An error occurred while retrieving information for the '%s' node.", name)
                logging.error(traceback.format_exc())
                continue
            result[name] = info
    return result


class RegisteredNodeInterfaces(Mapping):
    """The registered node classes' `/object_info` entries as a read-only mapping, each built when first asked
    for (a workflow names a few classes; building all of them would list every model folder)."""

    def __init__(self) -> None:
        self._built: dict[str, dict[str, Any]] = {}

    def __getitem__(self, node_class: str) -> dict[str, Any]:
        if node_class not in self._built:
            if node_class not in _node_registry().NODE_CLASS_MAPPINGS:
                raise KeyError(node_class)
            # as clients read it from /object_info (JSON: a V3 node's tuples become lists, which the workflow
            # converter expects)
            self._built[node_class] = json.loads(json.dumps(node_info(node_class)))
        return self._built[node_class]

    def __iter__(self) -> Iterator[str]:
        return iter(_node_registry().NODE_CLASS_MAPPINGS)

    def __len__(self) -> int:
        return len(_node_registry().NODE_CLASS_MAPPINGS)
