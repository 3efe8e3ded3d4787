"""Which node is running right now, as a context variable (`get_executing_context`), so progress reports from
inside a node (or an async task it started) land on the right prompt and node."""

from __future__ import annotations

import contextvars
from typing import NamedTuple


class ExecutionContext(NamedTuple):
    prompt_id: str
    node_id: str
    list_index: int | None


current_executing_context: contextvars.ContextVar[ExecutionContext | None] = contextvars.ContextVar(
    "current_executing_context", default=None
)


def get_executing_context() -> ExecutionContext | None:
    return current_executing_context.get(None)


class CurrentNodeContext:
    """`with CurrentNodeContext(prompt_id, node_id, list_index):` marks the code inside as that node's."""

    def __init__(self, prompt_id: str, node_id: str, list_index: int | None = None):
        self.context = ExecutionContext(prompt_id, node_id, list_index)
        self.token: contextvars.Token | None = None

    def __enter__(self) -> CurrentNodeContext:
        self.token = current_executing_context.set(self.context)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.token is not None:
            current_executing_context.reset(self.token)
