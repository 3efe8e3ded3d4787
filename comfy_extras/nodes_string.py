"""String utility nodes: concatenate, substring, length, case, trim, replace, contains, compare and regular
expressions (Python's `re`)."""

from __future__ import annotations

import re

from comfy_extras.v3_info import V3Rendered, class_mappings, display_names

_TEXT = ("STRING", {"multiline": True})


def _regex_flags(case_insensitive: bool, multiline: bool, dotall: bool) -> int:
    flags = 0
    if case_insensitive:
        flags |= re.IGNORECASE
    if multiline:
        flags |= re.MULTILINE
    if dotall:
        flags |= re.DOTALL
    return flags


class _StringNode(V3Rendered):
    CATEGORY = "utils/string"
    RETURN_TYPES = ("STRING",)
    FUNCTION = "execute"


class StringConcatenate(_StringNode):
    NODE_ID = "StringConcatenate"
    DISPLAY_NAME = "Concatenate"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string_a": _TEXT, "string_b": _TEXT,
                             "delimiter": ("STRING", {"default": "", "multiline": False})}}

    @classmethod
    def execute(cls, string_a: str, string_b: str, delimiter: str) -> tuple[str]:
        return (delimiter.join((string_a, string_b)),)


class StringSubstring(_StringNode):
    """string[start:end] with Python's slice rules."""

    NODE_ID = "StringSubstring"
    DISPLAY_NAME = "Substring"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string": _TEXT, "start": ("INT", {}), "end": ("INT", {})}}

    @classmethod
    def execute(cls, string: str, start: int, end: int) -> tuple[str]:
        return (string[start:end],)


class StringLength(_StringNode):
    NODE_ID = "StringLength"
    DISPLAY_NAME = "Length"
    RETURN_TYPES = ("INT",)
    RETURN_NAMES = ("length",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string": _TEXT}}

    @classmethod
    def execute(cls, string: str) -> tuple[int]:
        return (len(string),)


class CaseConverter(_StringNode):
    NODE_ID = "CaseConverter"
    DISPLAY_NAME = "Case Converter"
    _CONVERSIONS = {"UPPERCASE": str.upper, "lowercase": str.lower, "Capitalize": str.capitalize,
                    "Title Case": str.title}

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string": _TEXT, "mode": (list(cls._CONVERSIONS),)}}

    @classmethod
    def execute(cls, string: str, mode: str) -> tuple[str]:
        conversion = cls._CONVERSIONS.get(mode)
        return (conversion(string) if conversion else string,)


class StringTrim(_StringNode):
    NODE_ID = "StringTrim"
    DISPLAY_NAME = "Trim"
    _TRIMS = {"Both": str.strip, "Left": str.lstrip, "Right": str.rstrip}

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string": _TEXT, "mode": (list(cls._TRIMS),)}}

    @classmethod
    def execute(cls, string: str, mode: str) -> tuple[str]:
        trim = cls._TRIMS.get(mode)
        return (trim(string) if trim else string,)


class StringReplace(_StringNode):
    NODE_ID = "StringReplace"
    DISPLAY_NAME = "Replace"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string": _TEXT, "find": _TEXT, "replace": _TEXT}}

    @classmethod
    def execute(cls, string: str, find: str, replace: str) -> tuple[str]:
        return (string.replace(find, replace),)


class StringContains(_StringNode):
    NODE_ID = "StringContains"
    DISPLAY_NAME = "Contains"
    RETURN_TYPES = ("BOOLEAN",)
    RETURN_NAMES = ("contains",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string": _TEXT, "substring": _TEXT,
                             "case_sensitive": ("BOOLEAN", {"default": True})}}

    @classmethod
    def execute(cls, string: str, substring: str, case_sensitive: bool) -> tuple[bool]:
        if case_sensitive:
            return (substring in string,)
        return (substring.lower() in string.lower(),)


class StringCompare(_StringNode):
    """string_a starts with, ends with or equals string_b."""

    NODE_ID = "StringCompare"
    DISPLAY_NAME = "Compare"
    RETURN_TYPES = ("BOOLEAN",)
    _COMPARISONS = {"Starts With": str.startswith, "Ends With": str.endswith, "Equal": str.__eq__}

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"string_a": _TEXT, "string_b": _TEXT, "mode": (list(cls._COMPARISONS),),
                             "case_sensitive": ("BOOLEAN", {"default": True})}}

    @classmethod
    def execute(cls, string_a: str, string_b: str, mode: str, case_sensitive: bool) -> tuple[bool]:
        if not case_sensitive:
            string_a, string_b = string_a.lower(), string_b.lower()
        return (cls._COMPARISONS[mode](string_a, string_b),)


class RegexMatch(_StringNode):
    """Whether the pattern matches anywhere (an invalid pattern matches nothing)."""

    NODE_ID = "RegexMatch"
    DISPLAY_NAME = "Regex Match"
    RETURN_TYPES = ("BOOLEAN",)
    RETURN_NAMES = ("matches",)

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "string": _TEXT,
            "regex_pattern": _TEXT,
            "case_insensitive": ("BOOLEAN", {"default": True}),
            "multiline": ("BOOLEAN", {"default": False}),
            "dotall": ("BOOLEAN", {"default": False}),
        }}

    @classmethod
    def execute(cls, string: str, regex_pattern: str, case_insensitive: bool, multiline: bool,
                dotall: bool) -> tuple[bool]:
        try:
            return (re.search(regex_pattern, string, _regex_flags(case_insensitive, multiline, dotall)) is not None,)
        except re.error:
            return (False,)


class RegexExtract(_StringNode):
    """The first match, all matches, the first match's group, or that group of every match, joined by newlines
    (an invalid pattern gives "")."""

    NODE_ID = "RegexExtract"
    DISPLAY_NAME = "Regex Extract"
    MODES = ["First Match", "All Matches", "First Group", "All Groups"]

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "string": _TEXT,
            "regex_pattern": _TEXT,
            "mode": (cls.MODES,),
            "case_insensitive": ("BOOLEAN", {"default": True}),
            "multiline": ("BOOLEAN", {"default": False}),
            "dotall": ("BOOLEAN", {"default": False}),
            "group_index": ("INT", {"default": 1, "min": 0, "max": 100}),
        }}

    @classmethod
    def execute(cls, string: str, regex_pattern: str, mode: str, case_insensitive: bool, multiline: bool,
                dotall: bool, group_index: int) -> tuple[str]:
        flags = _regex_flags(case_insensitive, multiline, dotall)
        try:
            return (cls._extract(string, regex_pattern, mode, flags, group_index),)
        except re.error:
            return ("",)

    @staticmethod
    def _extract(string: str, pattern: str, mode: str, flags: int, group_index: int) -> str:
        if mode == "First Match":
            match = re.search(pattern, string, flags)
            return match.group(0) if match else ""
        if mode == "All Matches":
            # With groups, findall gives tuples (or the one group's text); the first group is kept.
            matches = re.findall(pattern, string, flags)
            if matches and isinstance(matches[0], tuple):
                return "\n".join(found[0] for found in matches)
            return "\n".join(matches)
        if mode == "First Group":
            match = re.search(pattern, string, flags)
            return match.group(group_index) if match and len(match.groups()) >= group_index else ""
        if mode == "All Groups":
            groups = [match.group(group_index) for match in re.finditer(pattern, string, flags)
                      if match.groups() and len(match.groups()) >= group_index]
            return "\n".join(groups)
        return ""


class RegexReplace(_StringNode):
    NODE_ID = "RegexReplace"
    DISPLAY_NAME = "Regex Replace"
    DESCRIPTION = "Find and replace text using regex patterns."

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"string": _TEXT, "regex_pattern": _TEXT, "replace": _TEXT},
            "optional": {
                "case_insensitive": ("BOOLEAN", {"default": True}),
                "multiline": ("BOOLEAN", {"default": False}),
                "dotall": ("BOOLEAN", {
                    "default": False,
                    "tooltip": "When enabled, the dot (.) character will match any character including newline "
                               "characters. When disabled, dots won't match newlines."}),
                "count": ("INT", {
                    "default": 0, "min": 0, "max": 100,
                    "tooltip": "Maximum number of replacements to make. Set to 0 to replace all occurrences "
                               "(default). Set to 1 to replace only the first match, 2 for the first two "
                               "matches, etc."}),
            },
        }

    @classmethod
    def execute(cls, string: str, regex_pattern: str, replace: str, case_insensitive: bool = True,
                multiline: bool = False, dotall: bool = False, count: int = 0) -> tuple[str]:
        flags = _regex_flags(case_insensitive, multiline, dotall)
        return (re.sub(regex_pattern, replace, string, count=count, flags=flags),)


_NODES = (StringConcatenate, StringSubstring, StringLength, CaseConverter, StringTrim, StringReplace,
          StringContains, StringCompare, RegexMatch, RegexExtract, RegexReplace)
NODE_CLASS_MAPPINGS = class_mappings(*_NODES)
NODE_DISPLAY_NAME_MAPPINGS = display_names(*_NODES)
