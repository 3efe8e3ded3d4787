"""Helpers to write API-format prompts in tests: nodes, links, fresh values and a few common graphs."""

from __future__ import annotations

import itertools
import time
from typing import Any

_fresh_values = itertools.count(int(time.time() * 1000) % 1_000_000_000)


def fresh() -> int:
    """An integer no other test of this session uses, so a prompt never hits another test's cache entries."""
    return next(_fresh_values)


def node(class_type: str, **inputs: Any) -> dict:
    """One API-format node `{"class_type", "inputs"}`."""
    return {"class_type": class_type, "inputs": inputs}


def link(node_id: str | int, slot: int = 0) -> list:
    """A link to output `slot` of node `node_id`: `[node_id, slot]`."""
    return [str(node_id), slot]


def quick_prompt(value: int | None = None) -> dict:
    """Two cheap nodes: a constant feeding an output node that shows it."""
    return {
        "1": node("KilnTestInt", value=fresh() if value is None else value),
        "2": node("KilnTestIntOutput", value=link(1)),
    }


def slow_prompt(seconds: float, value: int | None = None, steps: int | None = None) -> dict:
    """A constant, then a KilnTestSlow node ("2") taking `seconds`, then an output node ("3")."""
    return {
        "1": node("KilnTestInt", value=fresh() if value is None else value),
        "2": node("KilnTestSlow", value=link(1), seconds=seconds, steps=steps or max(1, int(seconds * 10))),
        "3": node("KilnTestIntOutput", value=link(2)),
    }
