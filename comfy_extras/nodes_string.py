"""String utility nodes: concatenate, substring, length, case, trim, replace, contains, compare and regular
expressions (Python's `re`)."""

from __future__ import annotations

import re

from comfy_api.latest import ComfyExtension, io


def _regex_flags(case_insensitive: bool, multiline: bool, dotall: bool) -> int:
    flags = 0
    if case_insensitive:
        flags |= re.IGNORECASE
    if multiline:
        flags |= re.MULTILINE
    if dotall:
        flags |= re.DOTALL
    return flags


def _text(name: str) -> io.String.Input:
    return io.String.Input(name, multiline=True)


def _schema(node_id: str, display_name: str, inputs: list, output: io.Output | None = None, **flags) -> io.Schema:
    return io.Schema(node_id=node_id, display_name=display_name, category="utils/string", inputs=inputs,
                     outputs=[output or io.String.Output()], **flags)


class StringConcatenate(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("StringConcatenate", "Concatenate", [
            _text("string_a"), _text("string_b"), io.String.Input("delimiter", default="", multiline=False)])

    @classmethod
    def execute(cls, string_a: str, string_b: str, delimiter: str) -> io.NodeOutput:
        return io.NodeOutput(delimiter.join((string_a, string_b)))


class StringSubstring(io.ComfyNode):
    """string[start:end] with Python's slice rules."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("StringSubstring", "Substring", [_text("string"), io.Int.Input("start"), io.Int.Input("end")])

    @classmethod
    def execute(cls, string: str, start: int, end: int) -> io.NodeOutput:
        return io.NodeOutput(string[start:end])


class StringLength(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("StringLength", "Length", [_text("string")], io.Int.Output(display_name="length"))

    @classmethod
    def execute(cls, string: str) -> io.NodeOutput:
        return io.NodeOutput(len(string))


class CaseConverter(io.ComfyNode):
    _CONVERSIONS = {"UPPERCASE": str.upper, "lowercase": str.lower, "Capitalize": str.capitalize,
                    "Title Case": str.title}

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("CaseConverter", "Case Converter",
                       [_text("string"), io.Combo.Input("mode", options=list(cls._CONVERSIONS))])

    @classmethod
    def execute(cls, string: str, mode: str) -> io.NodeOutput:
        conversion = cls._CONVERSIONS.get(mode)
        return io.NodeOutput(conversion(string) if conversion else string)


class StringTrim(io.ComfyNode):
    _TRIMS = {"Both": str.strip, "Left": str.lstrip, "Right": str.rstrip}

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("StringTrim", "Trim", [_text("string"), io.Combo.Input("mode", options=list(cls._TRIMS))])

    @classmethod
    def execute(cls, string: str, mode: str) -> io.NodeOutput:
        trim = cls._TRIMS.get(mode)
        return io.NodeOutput(trim(string) if trim else string)


class StringReplace(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("StringReplace", "Replace", [_text("string"), _text("find"), _text("replace")])

    @classmethod
    def execute(cls, string: str, find: str, replace: str) -> io.NodeOutput:
        return io.NodeOutput(string.replace(find, replace))


class StringContains(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("StringContains", "Contains",
                       [_text("string"), _text("substring"), io.Boolean.Input("case_sensitive", default=True)],
                       io.Boolean.Output(display_name="contains"))

    @classmethod
    def execute(cls, string: str, substring: str, case_sensitive: bool) -> io.NodeOutput:
        if case_sensitive:
            return io.NodeOutput(substring in string)
        return io.NodeOutput(substring.lower() in string.lower())


class StringCompare(io.ComfyNode):
    """string_a starts with, ends with or equals string_b."""

    _COMPARISONS = {"Starts With": str.startswith, "Ends With": str.endswith, "Equal": str.__eq__}

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("StringCompare", "Compare",
                       [_text("string_a"), _text("string_b"), io.Combo.Input("mode", options=list(cls._COMPARISONS)),
                        io.Boolean.Input("case_sensitive", default=True)],
                       io.Boolean.Output())

    @classmethod
    def execute(cls, string_a: str, string_b: str, mode: str, case_sensitive: bool) -> io.NodeOutput:
        if not case_sensitive:
            string_a, string_b = string_a.lower(), string_b.lower()
        return io.NodeOutput(cls._COMPARISONS[mode](string_a, string_b))


def _flag_inputs() -> list[io.Boolean.Input]:
    return [io.Boolean.Input("case_insensitive", default=True), io.Boolean.Input("multiline", default=False),
            io.Boolean.Input("dotall", default=False)]


class RegexMatch(io.ComfyNode):
    """Whether the pattern matches anywhere (an invalid pattern matches nothing)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("RegexMatch", "Regex Match", [_text("string"), _text("regex_pattern"), *_flag_inputs()],
                       io.Boolean.Output(display_name="matches"))

    @classmethod
    def execute(cls, string: str, regex_pattern: str, case_insensitive: bool, multiline: bool,
                dotall: bool) -> io.NodeOutput:
        try:
            found = re.search(regex_pattern, string, _regex_flags(case_insensitive, multiline, dotall))
        except re.error:
            return io.NodeOutput(False)
        return io.NodeOutput(found is not None)


class RegexExtract(io.ComfyNode):
    """The first match, all matches, the first match's group, or that group of every match, joined by newlines
    (an invalid pattern gives "")."""

    MODES = ["First Match", "All Matches", "First Group", "All Groups"]

    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("RegexExtract", "Regex Extract",
                       [_text("string"), _text("regex_pattern"), io.Combo.Input("mode", options=cls.MODES),
                        *_flag_inputs(), io.Int.Input("group_index", default=1, min=0, max=100)])

    @classmethod
    def execute(cls, string: str, regex_pattern: str, mode: str, case_insensitive: bool, multiline: bool,
                dotall: bool, group_index: int) -> io.NodeOutput:
        flags = _regex_flags(case_insensitive, multiline, dotall)
        try:
            return io.NodeOutput(cls._extract(string, regex_pattern, mode, flags, group_index))
        except re.error:
            return io.NodeOutput("")

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


class RegexReplace(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return _schema("RegexReplace", "Regex Replace", [
            _text("string"), _text("regex_pattern"), _text("replace"),
            io.Boolean.Input("case_insensitive", default=True, optional=True),
            io.Boolean.Input("multiline", default=False, optional=True),
            io.Boolean.Input("dotall", default=False, optional=True,
                             tooltip="When enabled, the dot (.) character will match any character including newline "
                                     "characters. When disabled, dots won't match newlines."),
            io.Int.Input("count", default=0, min=0, max=100, optional=True,
                         tooltip="Maximum number of replacements to make. Set to 0 to replace all occurrences "
                                 "(default). Set to 1 to replace only the first match, 2 for the first two matches, "
                                 "etc."),
        ], description="Find and replace text using regex patterns.")

    @classmethod
    def execute(cls, string: str, regex_pattern: str, replace: str, case_insensitive: bool = True,
                multiline: bool = False, dotall: bool = False, count: int = 0) -> io.NodeOutput:
        flags = _regex_flags(case_insensitive, multiline, dotall)
        return io.NodeOutput(re.sub(regex_pattern, replace, string, count=count, flags=flags))


class StringExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [StringConcatenate, StringSubstring, StringLength, CaseConverter, StringTrim, StringReplace,
                StringContains, StringCompare, RegexMatch, RegexExtract, RegexReplace]


async def comfy_entrypoint() -> StringExtension:
    return StringExtension()
