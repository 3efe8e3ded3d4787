"""Reading hyper-parameters from a state dict's key names and tensor shapes (the detection functions' tools)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from comfy.families.base import ModelDetectionError, first_keys


def shape(state_dict: Mapping[str, Any], key: str) -> tuple[int, ...]:
    """The shape of `state_dict[key]`; ModelDetectionError naming the key when it is missing."""
    try:
        return tuple(state_dict[key].shape)
    except KeyError:
        raise ModelDetectionError(
            f"Incomplete diffusion model: the key {key!r} is missing (the file may be truncated or not a model). "
            f"First keys seen: {first_keys(state_dict)}"
        )


def count_indices(state_dict: Mapping[str, Any], pattern: str) -> int:
    """1 + the highest N for which some key matches `pattern` (a regex with one `(\\d+)` group); 0 if none."""
    regex = re.compile(pattern)
    highest = -1
    for key in state_dict:
        match = regex.match(key)
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def indices(state_dict: Mapping[str, Any], pattern: str) -> list[int]:
    """The sorted distinct N of the keys matching `pattern` (a regex with one `(\\d+)` group)."""
    regex = re.compile(pattern)
    return sorted({int(match.group(1)) for key in state_dict if (match := regex.match(key))})


def first_match_shape(state_dict: Mapping[str, Any], pattern: str) -> tuple[int, ...]:
    """The shape of the first key matching the regex `pattern`; ModelDetectionError when none does."""
    regex = re.compile(pattern)
    for key, value in state_dict.items():
        if regex.match(key):
            return tuple(value.shape)
    raise ModelDetectionError(f"Incomplete diffusion model: no key matches {pattern!r}. "
                              f"First keys seen: {first_keys(state_dict)}")
