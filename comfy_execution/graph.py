"""The prompt graph as data (`DynamicPrompt`) and the loop over ready nodes (`ExecutionList`).

Nothing here recurses over the graph: a 10,000-node chain is walked with explicit stacks, and the set of ready
nodes is kept up to date as nodes finish, so picking the next node does not rescan the whole graph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import nodes
from comfy_execution.graph_utils import ExecutionBlocker, is_link  # noqa: F401 - ExecutionBlocker: also public here


class DependencyCycleError(Exception):
    """The nodes still pending all wait on each other."""


class NodeInputError(Exception):
    pass


class NodeNotFoundError(Exception):
    pass


class DynamicPrompt:
    """The prompt a client sent, plus the ephemeral nodes that node expansions add while it runs."""

    def __init__(self, original_prompt: dict[str, dict]):
        self.original_prompt = original_prompt
        self.ephemeral_prompt: dict[str, dict] = {}
        self.ephemeral_parents: dict[str, str] = {}
        self.ephemeral_display: dict[str, str] = {}

    def get_node(self, node_id: str) -> dict:
        if node_id in self.ephemeral_prompt:
            return self.ephemeral_prompt[node_id]
        if node_id in self.original_prompt:
            return self.original_prompt[node_id]
        raise NodeNotFoundError(f"Node {node_id} not found")

    def has_node(self, node_id: str) -> bool:
        return node_id in self.original_prompt or node_id in self.ephemeral_prompt

    def add_ephemeral_node(self, node_id: str, node_info: dict, parent_id: str, display_id: str) -> None:
        self.ephemeral_prompt[node_id] = node_info
        self.ephemeral_parents[node_id] = parent_id
        self.ephemeral_display[node_id] = display_id

    def get_real_node_id(self, node_id: str) -> str:
        while node_id in self.ephemeral_parents:
            node_id = self.ephemeral_parents[node_id]
        return node_id

    def get_parent_node_id(self, node_id: str) -> str | None:
        return self.ephemeral_parents.get(node_id)

    def get_display_node_id(self, node_id: str) -> str:
        while node_id in self.ephemeral_display:
            display_id = self.ephemeral_display[node_id]
            if display_id == node_id:
                break
            node_id = display_id
        return node_id

    def all_node_ids(self) -> set[str]:
        return set(self.original_prompt) | set(self.ephemeral_prompt)

    def get_original_prompt(self) -> dict[str, dict]:
        return self.original_prompt


def get_input_info(class_def: type, input_name: str,
                   valid_inputs: dict | None = None) -> tuple[Any, str | None, dict | None]:
    """(type, category, options) of a node's input; category is required/optional/hidden, or None if the class
    does not declare it."""
    if valid_inputs is None:
        valid_inputs = class_def.INPUT_TYPES()
    for category in ("required", "optional", "hidden"):
        declared = valid_inputs.get(category) or {}
        if input_name in declared:
            spec = declared[input_name]
            if category == "hidden":
                return spec, category, {}
            if isinstance(spec, (list, tuple)) and len(spec) > 0:
                input_type = spec[0]
                extra_info = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            else:
                input_type, extra_info = spec, {}
            return input_type, category, extra_info
    return None, None, None


def node_class(class_type: str) -> type:
    return nodes.NODE_CLASS_MAPPINGS[class_type]


class TopologicalSort:
    """Dependency book-keeping for the nodes of one prompt.

    `block_count[n]` is how many unfinished nodes `n` still waits on; `ready` holds, in insertion order, the
    pending nodes that wait on none.
    """

    def __init__(self, dynprompt: DynamicPrompt):
        self.dynprompt = dynprompt
        self.pending_nodes: dict[str, bool] = {}
        self.block_count: dict[str, int] = {}
        self.blocking: dict[str, dict[str, dict[int, bool]]] = {}
        self.ready: dict[str, None] = {}
        self.external_blocks = 0
        self.unblocked_event = asyncio.Event()

    def make_input_strong_link(self, to_node_id: str, to_input: str) -> None:
        inputs = self.dynprompt.get_node(to_node_id)["inputs"]
        if to_input not in inputs:
            raise NodeInputError(f"Node {to_node_id} says it needs input {to_input}, but there is no input to that node at all")
        value = inputs[to_input]
        if not is_link(value):
            raise NodeInputError(f"Node {to_node_id} says it needs input {to_input}, but that value is a constant")
        from_node_id, from_socket = value
        self.add_strong_link(from_node_id, from_socket, to_node_id)

    def add_strong_link(self, from_node_id: str, from_socket: int, to_node_id: str) -> None:
        if not self.is_cached(from_node_id):
            self.add_node(from_node_id)
            sockets = self.blocking[from_node_id].setdefault(to_node_id, {})
            if not sockets:
                self._block(to_node_id)
            sockets[from_socket] = True

    def _block(self, node_id: str) -> None:
        self.block_count[node_id] += 1
        self.ready.pop(node_id, None)

    def _unblock(self, node_id: str) -> None:
        self.block_count[node_id] -= 1
        if self.block_count[node_id] == 0 and node_id in self.pending_nodes:
            self.ready[node_id] = None

    def add_node(self, node_unique_id: str, include_lazy: bool = False,
                 subgraph_nodes: set[str] | None = None) -> None:
        """Add a node and every not-yet-cached node it needs, walking the graph with an explicit stack."""
        to_add = [node_unique_id]
        while to_add:
            unique_id = to_add.pop()
            if unique_id in self.pending_nodes:
                continue
            self.pending_nodes[unique_id] = True
            self.block_count.setdefault(unique_id, 0)
            self.blocking.setdefault(unique_id, {})
            if self.block_count[unique_id] == 0:
                self.ready[unique_id] = None

            node = self.dynprompt.get_node(unique_id)
            class_def = node_class(node["class_type"])
            valid_inputs = class_def.INPUT_TYPES()
            for input_name, value in node["inputs"].items():
                if not is_link(value):
                    continue
                from_node_id, from_socket = value
                if subgraph_nodes is not None and from_node_id not in subgraph_nodes:
                    continue
                _, _, input_info = get_input_info(class_def, input_name, valid_inputs)
                is_lazy = input_info is not None and input_info.get("lazy", False)
                if (include_lazy or not is_lazy) and not self.is_cached(from_node_id):
                    to_add.append(from_node_id)
                    self._link_pending(from_node_id, from_socket, unique_id)

    def _link_pending(self, from_node_id: str, from_socket: int, to_node_id: str) -> None:
        """Record that `to_node_id` waits on `from_node_id`, which is (or is about to be) pending."""
        sockets = self.blocking.setdefault(from_node_id, {}).setdefault(to_node_id, {})
        if not sockets:
            self._block(to_node_id)
        sockets[from_socket] = True

    def add_external_block(self, node_id: str) -> Callable[[], None]:
        """Hold `node_id` back until the returned function is called (an async node still running)."""
        if node_id not in self.blocking:
            raise KeyError(f"Node {node_id} is not pending")
        self.external_blocks += 1
        self._block(node_id)

        def unblock() -> None:
            self.external_blocks -= 1
            self._unblock(node_id)
            self.unblocked_event.set()

        return unblock

    def is_cached(self, node_id: str) -> bool:
        return False

    def get_ready_nodes(self) -> list[str]:
        return list(self.ready)

    def pop_node(self, unique_id: str) -> None:
        del self.pending_nodes[unique_id]
        self.ready.pop(unique_id, None)
        for blocked_node_id in self.blocking.pop(unique_id, {}):
            self._unblock(blocked_node_id)

    def is_empty(self) -> bool:
        return len(self.pending_nodes) == 0


class ExecutionList(TopologicalSort):
    """The nodes still to run for one prompt, and the outputs produced so far."""

    def __init__(self, dynprompt: DynamicPrompt, output_cache: Any):
        super().__init__(dynprompt)
        self.output_cache = output_cache
        self.staged_node_id: str | None = None
        self.execution_cache: dict[str, Any] = {}

    def is_cached(self, node_id: str) -> bool:
        return node_id in self.execution_cache or self.output_cache.get(node_id) is not None

    def cache_update(self, node_id: str, value: Any) -> None:
        self.execution_cache[node_id] = value

    def get_output_cache(self, from_node_id: str, to_node_id: str) -> Any:
        if from_node_id in self.execution_cache:
            return self.execution_cache[from_node_id]
        value = self.output_cache.get(from_node_id)
        if value is not None:
            self.execution_cache[from_node_id] = value
        return value

    async def stage_node_execution(self) -> tuple[str | None, dict | None, Exception | None]:
        """Pick the next node to run: (node_id, None, None), or (None, error, exception) on a cycle."""
        assert self.staged_node_id is None
        if self.is_empty():
            return None, None, None
        while not self.ready and self.external_blocks > 0:
            self.unblocked_event.clear()
            await self.unblocked_event.wait()
        if not self.ready:
            cycled_nodes = self.get_nodes_in_cycle()
            blamed_node = cycled_nodes[0]
            for node_id in cycled_nodes:
                display_node_id = self.dynprompt.get_display_node_id(node_id)
                if display_node_id != node_id:
                    blamed_node = display_node_id
                    break
            ex = DependencyCycleError("Dependency cycle detected")
            error_details = {
                "node_id": blamed_node,
                "exception_message": str(ex),
                "exception_type": "graph.DependencyCycleError",
                "traceback": [],
                "current_inputs": [],
            }
            return None, error_details, ex
        self.staged_node_id = self.ux_friendly_pick_node()
        return self.staged_node_id, None, None

    def ux_friendly_pick_node(self) -> str:
        """Prefer nodes whose result the user sees soonest: output and async nodes first, then nodes one or two
        steps from an output; else the oldest ready node."""

        def is_output(node_id: str) -> bool:
            class_def = node_class(self.dynprompt.get_node(node_id)["class_type"])
            if getattr(class_def, "OUTPUT_NODE", False) is True:
                return True
            function = getattr(class_def, getattr(class_def, "FUNCTION", ""), None)
            return asyncio.iscoroutinefunction(function)

        for node_id in self.ready:
            if is_output(node_id):
                return node_id
        for node_id in self.ready:
            for blocked in self.blocking[node_id]:
                if is_output(blocked):
                    return node_id
        for node_id in self.ready:
            for blocked in self.blocking[node_id]:
                for blocked_again in self.blocking.get(blocked, {}):
                    if is_output(blocked_again):
                        return node_id
        return next(iter(self.ready))

    def unstage_node_execution(self) -> None:
        assert self.staged_node_id is not None
        self.staged_node_id = None

    def complete_node_execution(self) -> None:
        node_id = self.staged_node_id
        assert node_id is not None
        self.pop_node(node_id)
        self.staged_node_id = None

    def get_nodes_in_cycle(self) -> list[str]:
        """The pending nodes that are part of, or wait on, a cycle (nodes that block nothing are peeled off)."""
        blocked_by: dict[str, set[str]] = {node_id: set() for node_id in self.pending_nodes}
        for from_node_id, blocked in self.blocking.items():
            for to_node_id in blocked:
                if to_node_id in blocked_by and from_node_id in self.pending_nodes:
                    blocked_by[to_node_id].add(from_node_id)
        leaves = [node_id for node_id, blockers in blocked_by.items() if not self.blocking.get(node_id)]
        while leaves:
            leaf = leaves.pop()
            for blocker in blocked_by.pop(leaf, set()):
                self.blocking[blocker].pop(leaf, None)
                if not self.blocking[blocker]:
                    leaves.append(blocker)
        return list(blocked_by)
