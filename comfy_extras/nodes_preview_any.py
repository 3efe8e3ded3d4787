"""PreviewAny: show any value on the node as text (strings as they are, numbers with str(), the rest as JSON)."""

from __future__ import annotations

import json
from typing import Any


class PreviewAny:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"source": ("*", {})}}

    RETURN_TYPES = ()
    FUNCTION = "main"
    OUTPUT_NODE = True
    CATEGORY = "utils"

    def main(self, source: Any = None) -> dict:
        return {"ui": {"text": (preview_text(source),)}}


def preview_text(source: Any) -> str:
    """The text PreviewAny shows for a value: "None", the string, str() of a number or bool, else JSON, else
    str(), else a fixed note."""
    if isinstance(source, str):
        return source
    if isinstance(source, (int, float, bool)):
        return str(source)
    if source is None:
        return "None"
    try:
        return json.dumps(source)
    except Exception:
        try:
            return str(source)
        except Exception:
            return "source exists, but could not be serialized."


NODE_CLASS_MAPPINGS = {"PreviewAny": PreviewAny}
NODE_DISPLAY_NAME_MAPPINGS = {"PreviewAny": "Preview Any"}
