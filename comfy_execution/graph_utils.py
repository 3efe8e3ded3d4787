"""Building sub-graphs from inside a node (`GraphBuilder`) and telling links from constants (`is_link`)."""

from __future__ import annotations

from typing import Any


def is_link(obj: Any) -> bool:
    """True for an input value that is a link `[source_node_id: str, output_slot: int]`."""
    return (
        isinstance(obj, list)
        and len(obj) == 2
        and isinstance(obj[0], str)
        and isinstance(obj[1], (int, float))
        and not isinstance(obj[1], bool)
    )


class GraphBuilder:
    """Collects nodes for a node expansion and hands them to the executor with `finalize()`.

    Node ids are made unique per expanding node and call: `"<prefix><counter>"`, where the executor sets the
    prefix to `"<expanding node id>.<call index>.<graph index>."` before it calls the node function.
    """

    _default_prefix_root = ""
    _default_prefix_call_index = 0
    _default_prefix_graph_index = 0

    def __init__(self, prefix: str | None = None):
        if prefix is None:
            self.prefix = GraphBuilder.alloc_prefix()
        else:
            self.prefix = prefix
        self.nodes: dict[str, Node] = {}
        self.id_gen = 1

    @classmethod
    def set_default_prefix(cls, prefix_root: str, call_index: int, graph_index: int = 0) -> None:
        cls._default_prefix_root = prefix_root
        cls._default_prefix_call_index = call_index
        cls._default_prefix_graph_index = graph_index

    @classmethod
    def alloc_prefix(cls, root: str | None = None, call_index: int | None = None,
                     graph_index: int | None = None) -> str:
        if root is None:
            root = GraphBuilder._default_prefix_root
        if call_index is None:
            call_index = GraphBuilder._default_prefix_call_index
        if graph_index is None:
            graph_index = GraphBuilder._default_prefix_graph_index
        GraphBuilder._default_prefix_graph_index += 1
        return f"{root}.{call_index}.{graph_index}."

    def node(self, class_type: str, id: str | None = None, **kwargs: Any) -> Node:  # noqa: A002 - ComfyUI's name
        if id is None:
            id = str(self.id_gen)
            self.id_gen += 1
        id = self.prefix + id
        if id in self.nodes:
            return self.nodes[id]
        node = Node(id, class_type, kwargs)
        self.nodes[id] = node
        return node

    def lookup_node(self, id: str) -> Node | None:  # noqa: A002
        return self.nodes.get(self.prefix + id)

    def finalize(self) -> dict[str, dict]:
        return {node_id: node.serialize() for node_id, node in self.nodes.items()}

    def replace_node_output(self, node_id: str, index: int, new_value: Any) -> None:
        node_id = self.prefix + node_id
        to_remove = []
        for node in self.nodes.values():
            for key, value in node.inputs.items():
                if is_link(value) and value[0] == node_id and value[1] == index:
                    if new_value is None:
                        to_remove.append((node, key))
                    else:
                        node.inputs[key] = new_value
        for node, key in to_remove:
            del node.inputs[key]

    def remove_node(self, id: str) -> None:  # noqa: A002
        self.nodes.pop(self.prefix + id, None)


class Node:
    """One node of a `GraphBuilder` graph; `out(i)` is a link to its i-th output."""

    def __init__(self, id: str, class_type: str, inputs: dict[str, Any]):  # noqa: A002
        self.id = id
        self.class_type = class_type
        self.inputs = inputs
        self.override_display_id: str | None = None

    def out(self, index: int) -> list:
        return [self.id, index]

    def set_input(self, key: str, value: Any) -> None:
        if value is None:
            self.inputs.pop(key, None)
        else:
            self.inputs[key] = value

    def get_input(self, key: str) -> Any:
        return self.inputs.get(key)

    def set_override_display_id(self, override_display_id: str) -> None:
        self.override_display_id = override_display_id

    def serialize(self) -> dict:
        serialized: dict[str, Any] = {"class_type": self.class_type, "inputs": self.inputs}
        if self.override_display_id is not None:
            serialized["override_display_id"] = self.override_display_id
        return serialized


def add_graph_prefix(graph: dict, outputs: tuple, prefix: str) -> tuple[dict, tuple]:
    """Prefix every node id (and link) of `graph` and the links in `outputs` with `prefix`."""
    new_graph = {}
    for node_id, node in graph.items():
        new_inputs = {}
        for name, value in node["inputs"].items():
            new_inputs[name] = [prefix + value[0], value[1]] if is_link(value) else value
        new_graph[prefix + node_id] = {**node, "inputs": new_inputs}
    new_outputs = tuple([prefix + out[0], out[1]] if is_link(out) else out for out in outputs)
    return new_graph, new_outputs


class ExecutionBlocker:
    """A value a node returns instead of a real output to stop the nodes that use it from running.

    With a `message`, the first node it blocks reports an `execution_error` of type ExecutionBlocked and the
    prompt goes on; with `message=None` the block is silent.
    """

    def __init__(self, message: str | None):
        self.message = message
