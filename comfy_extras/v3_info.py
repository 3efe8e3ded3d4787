"""The `/object_info` entry of a classic node class, rendered the way ComfyUI renders nodes it writes in its V3
schema (`comfy_api.latest.io`).

Kiln writes those nodes in the classic form (INPUT_TYPES, RETURN_TYPES, FUNCTION), which its executor and
validation run; only their description differs. A V3 node's entry has every input's options dict (`["IMAGE", {}]`),
combos as `["COMBO", {..., "multiselect": false, "options": [...]}]`, strings with `multiline`, hidden inputs as
one-element lists, an `output_tooltips` entry per output, a `display_name` of null unless one is given, and
`deprecated`, `experimental`, `api_node` always present. This is a rendering shim, not the V3 API.
"""

from __future__ import annotations

from typing import Any

# Option keys a V3 input renders before the type-specific ones, in this order.
_LEADING_KEYS = ("tooltip", "default")


def _options_first(options: dict[str, Any]) -> dict[str, Any]:
    ordered = {key: options[key] for key in _LEADING_KEYS if key in options}
    ordered.update({key: value for key, value in options.items() if key not in ordered})
    return ordered


def _render_input(spec: tuple) -> list:
    kind = spec[0]
    options = dict(spec[1]) if len(spec) > 1 else {}
    if isinstance(kind, (list, tuple)):
        combo = {key: options.pop(key) for key in _LEADING_KEYS if key in options}
        combo["multiselect"] = False
        combo["options"] = list(kind)
        combo.update(options)  # upload flags (video_upload, ...) come after the options
        return ["COMBO", combo]
    if kind == "STRING":
        options.setdefault("multiline", False)
    return [kind, _options_first(options)]


class V3Rendered:
    """Mixin for a classic node class that ComfyUI 0.3.64 defines in its V3 schema.

    Set `NODE_ID` (the registered name), and where ComfyUI sets them `DISPLAY_NAME`, `DESCRIPTION`,
    `EXPERIMENTAL`, `DEPRECATED` and `OUTPUT_TOOLTIPS` (one per output; None where there is none).
    """

    NODE_ID: str = ""
    DISPLAY_NAME: str | None = None
    DESCRIPTION: str = ""
    EXPERIMENTAL: bool = False
    DEPRECATED: bool = False
    OUTPUT_NODE: bool = False

    @classmethod
    def GET_NODE_INFO_V1(cls) -> dict[str, Any]:
        inputs: dict[str, dict[str, Any]] = {}
        for section, entries in cls.INPUT_TYPES().items():
            if section == "hidden":
                inputs[section] = {name: [kind] for name, kind in entries.items()}
            else:
                inputs[section] = {name: _render_input(spec) for name, spec in entries.items()}
        outputs = list(getattr(cls, "RETURN_TYPES", ()))
        tooltips = getattr(cls, "OUTPUT_TOOLTIPS", None)
        return {
            "input": inputs,
            "input_order": {section: list(entries) for section, entries in inputs.items()},
            "output": outputs,
            "output_is_list": list(getattr(cls, "OUTPUT_IS_LIST", [False] * len(outputs))),
            "output_name": list(getattr(cls, "RETURN_NAMES", outputs)),
            "output_tooltips": list(tooltips) if tooltips is not None else [None] * len(outputs),
            "name": cls.NODE_ID,
            "display_name": cls.DISPLAY_NAME,
            "description": cls.DESCRIPTION,
            "python_module": getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes"),
            "category": getattr(cls, "CATEGORY", "sd"),
            "output_node": bool(cls.OUTPUT_NODE),
            "deprecated": bool(cls.DEPRECATED),
            "experimental": bool(cls.EXPERIMENTAL),
            "api_node": False,
        }


def display_names(*classes: type[V3Rendered]) -> dict[str, str]:
    """NODE_DISPLAY_NAME_MAPPINGS entries for the classes that have a display name (as ComfyUI registers them)."""
    return {cls.NODE_ID: cls.DISPLAY_NAME for cls in classes if cls.DISPLAY_NAME is not None}


def class_mappings(*classes: type[V3Rendered]) -> dict[str, type[V3Rendered]]:
    """NODE_CLASS_MAPPINGS entries keyed by each class's NODE_ID."""
    return {cls.NODE_ID: cls for cls in classes}
