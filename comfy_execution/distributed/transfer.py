"""Files between the server and remote workers, with no shared filesystem.

To a worker: the input files a prompt names (`input_files`). From a worker: the files a job wrote, saved into
this server's output and temp folders by `ReceivedFiles`. A worker starts each job with empty folders, so its
names (`ComfyUI_00001_.png`) collide with files already here: the file is saved under the next free counter, as
SaveImage would have named it on this server, and every reference to it in the job's messages and history is
rewritten (`rewrite`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import folder_paths
from comfy.file_writing import write_bytes_new

# ComfyUI's save names: `<prefix>_<counter, 5 digits or more>_<anything>.<ext>`.
_COUNTED_NAME = re.compile(r"^(?P<prefix>.+)_(?P<counter>\d{5,})_(?P<rest>.*)$")
_naming_lock = threading.Lock()


def input_files(prompt: dict, limit_bytes: int = 1 << 30) -> dict[str, bytes]:
    """The files of the input folder that the prompt's constant string inputs name (`image.png`,
    `clipspace/mask.png [input]`), relative path -> bytes. Names that resolve outside the folder are ignored
    (validation has refused them already); more than `limit_bytes` in all is an error."""
    input_dir = os.path.realpath(folder_paths.get_input_directory())
    found: dict[str, bytes] = {}
    total = 0
    for node in prompt.values():
        inputs = node.get("inputs") if isinstance(node, dict) else None
        for value in (inputs or {}).values():
            if not isinstance(value, str) or not value or len(value) > 4096:
                continue
            name, annotated_dir = folder_paths.annotated_filepath(value)
            if annotated_dir is not None and os.path.realpath(annotated_dir) != input_dir:
                continue  # "[output]" / "[temp]" names: not sent (a worker reads only its input folder)
            path = os.path.realpath(os.path.join(input_dir, name))
            if os.path.commonpath([path, input_dir]) != input_dir or not os.path.isfile(path):
                continue
            relative = os.path.relpath(path, input_dir).replace(os.sep, "/")
            if relative in found:
                continue
            total += os.path.getsize(path)
            if total > limit_bytes:
                raise ValueError(f"the prompt's input files exceed {limit_bytes} bytes")
            with open(path, "rb") as file:
                found[relative] = file.read()
    return found


class ReceivedFiles:
    """The files one job's worker sent, saved here; `rewrite` maps the worker's names to the saved ones."""

    def __init__(self) -> None:
        self.renamed: dict[tuple[str, str, str], str] = {}

    def save(self, type_name: str, subfolder: str, filename: str, data: bytes) -> str:
        """Save a file of type "output" or "temp" into this server's folder of that type; the name it got."""
        base = folder_paths.get_directory_by_type(type_name)
        if base is None or type_name not in ("output", "temp"):
            raise ValueError(f"a worker sent a file of unknown type {type_name!r}")
        base = os.path.realpath(base)
        folder = os.path.realpath(os.path.join(base, subfolder))
        if os.path.commonpath([folder, base]) != base or os.sep in filename or filename in ("", ".", ".."):
            raise ValueError(f"a worker sent a file outside the {type_name} folder: {subfolder!r}/{filename!r}")
        os.makedirs(folder, exist_ok=True)
        with _naming_lock:
            name = write_bytes_new(folder, _free_names(folder, filename), data)
        self.renamed[(type_name, subfolder, filename)] = name
        return name

    def rewrite(self, value: Any) -> Any:
        """`value` (a message's data, a history entry) with every file reference `{filename, subfolder, type}`
        of a renamed file pointing at the saved name. Returns a copy where anything changed."""
        if not self.renamed:
            return value
        if isinstance(value, dict):
            rewritten = {key: self.rewrite(item) for key, item in value.items()}
            filename = rewritten.get("filename")
            if isinstance(filename, str) and isinstance(rewritten.get("type"), str):
                key = (rewritten["type"], str(rewritten.get("subfolder") or ""), filename)
                if key in self.renamed:
                    rewritten["filename"] = self.renamed[key]
            return rewritten
        if isinstance(value, list):
            return [self.rewrite(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.rewrite(item) for item in value)
        return value


def _free_names(folder: str, filename: str) -> Iterator[str]:
    """The worker's own name first, then the next free name each time one is found taken."""
    yield filename
    while True:
        yield _next_free_name(folder, filename)


def _next_free_name(folder: str, filename: str) -> str:
    """The name SaveImage would pick here for a file the worker called `filename`: the same prefix with the
    counter after the largest one in the folder; for other names, `stem_N.ext` with the first free N."""
    match = _COUNTED_NAME.match(filename)
    if match is not None:
        prefix, width = match["prefix"], len(match["counter"])
        largest = 0
        for existing in os.listdir(folder):
            other = _COUNTED_NAME.match(existing)
            if other is not None and other["prefix"] == prefix:
                largest = max(largest, int(other["counter"]))
        return f"{prefix}_{largest + 1:0{width}d}_{match['rest']}"
    stem, extension = os.path.splitext(filename)
    number = 1
    while os.path.exists(os.path.join(folder, f"{stem}_{number}{extension}")):
        number += 1
    return f"{stem}_{number}{extension}"
