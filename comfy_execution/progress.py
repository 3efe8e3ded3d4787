"""Per-node progress of the running prompt, reported as `progress` and `progress_state` messages and previews.

`ProgressBar` (comfy.utils) reports to the hook `install_progress_hook` sets; the hook finds the running node
from the executing context, honours interrupts, and tells the registry, which tells clients.
"""

from __future__ import annotations

from typing import Any, Protocol

import comfy.model_management
import comfy.utils
from comfy_execution.graph import DynamicPrompt
from comfy_execution.utils import get_executing_context
from protocol import BinaryEventTypes

# Up to this many started nodes, each progress_state message carries every node's state, as ComfyUI's does
# (its size grows with the square of the node count: past the limit only what is running is sent).
FULL_STATE_NODE_LIMIT = 64


class EventSink(Protocol):
    """What the executor reports to (the server, or anything with the same methods)."""

    client_id: str | None
    last_node_id: str | None
    last_prompt_id: str | None

    def send_sync(self, event: str | int, data: Any, sid: str | None = None) -> None: ...

    def client_supports(self, sid: str | None, feature: str) -> bool: ...


class ProgressRegistry:
    """Progress of each started node of one prompt: value, max and state (running, finished, error)."""

    def __init__(self, prompt_id: str, dynprompt: DynamicPrompt | None, sink: EventSink | None):
        self.prompt_id = prompt_id
        self.dynprompt = dynprompt
        self.sink = sink
        self.nodes: dict[str, dict[str, Any]] = {}
        self.running: dict[str, None] = {}

    def _node_state(self, node_id: str, state: str, value: float, max_value: float) -> dict[str, Any]:
        dynprompt = self.dynprompt
        display_node_id = dynprompt.get_display_node_id(node_id) if dynprompt else node_id
        return {
            "value": value,
            "max": max_value,
            "state": state,
            "node_id": node_id,
            "prompt_id": self.prompt_id,
            "display_node_id": display_node_id,
            "parent_node_id": dynprompt.get_parent_node_id(node_id) if dynprompt else None,
            "real_node_id": dynprompt.get_real_node_id(node_id) if dynprompt else node_id,
        }

    def start_progress(self, node_id: str) -> None:
        self.nodes[node_id] = self._node_state(node_id, "running", 0, 1)
        self.running[node_id] = None
        self._send_state(node_id)

    def update_progress(self, node_id: str, value: float, max_value: float, preview: Any = None) -> None:
        self.nodes[node_id] = self._node_state(node_id, "running", value, max_value)
        self.running[node_id] = None
        self._send_state(node_id)
        if preview is not None:
            self._send_preview(node_id, preview)

    def finish_progress(self, node_id: str, state: str = "finished") -> None:
        previous = self.nodes.get(node_id)
        max_value = previous["max"] if previous else 1
        self.nodes[node_id] = self._node_state(node_id, state, max_value, max_value)
        self.running.pop(node_id, None)
        self._send_state(node_id)

    def _send_state(self, changed_node_id: str) -> None:
        if self.sink is None:
            return
        if len(self.nodes) <= FULL_STATE_NODE_LIMIT:
            nodes = dict(self.nodes)
        else:
            # Sending every finished node on every update is quadratic in the graph size; past the limit only
            # the running nodes and the one that changed are sent.
            nodes = {node_id: self.nodes[node_id] for node_id in self.running}
            nodes[changed_node_id] = self.nodes[changed_node_id]
        self.sink.send_sync("progress_state", {"prompt_id": self.prompt_id, "nodes": nodes}, self.sink.client_id)

    def _send_preview(self, node_id: str, preview: Any) -> None:
        sink = self.sink
        if sink is None:
            return
        if sink.client_supports(sink.client_id, "supports_preview_metadata"):
            state = self.nodes[node_id]
            metadata = {key: state[key] for key in ("node_id", "prompt_id", "display_node_id", "parent_node_id",
                                                    "real_node_id")}
            sink.send_sync(BinaryEventTypes.PREVIEW_IMAGE_WITH_METADATA, (preview, metadata), sink.client_id)
        else:
            sink.send_sync(BinaryEventTypes.UNENCODED_PREVIEW_IMAGE, preview, sink.client_id)


_current_registry: ProgressRegistry = ProgressRegistry("", None, None)


def reset_progress_state(prompt_id: str, dynprompt: DynamicPrompt, sink: EventSink | None) -> ProgressRegistry:
    global _current_registry
    _current_registry = ProgressRegistry(prompt_id, dynprompt, sink)
    return _current_registry


def get_progress_state() -> ProgressRegistry:
    return _current_registry


def install_progress_hook(sink: EventSink) -> None:
    """Route every `comfy.utils.ProgressBar` update to clients as `progress`, `progress_state` and previews."""

    def hook(value: float, total: float, preview: Any, prompt_id: str | None = None,
             node_id: str | None = None) -> None:
        context = get_executing_context()
        if context is not None:
            prompt_id = prompt_id or context.prompt_id
            node_id = node_id or context.node_id
        prompt_id = prompt_id or sink.last_prompt_id
        node_id = node_id or sink.last_node_id
        comfy.model_management.throw_exception_if_processing_interrupted()
        sink.send_sync("progress", {"value": value, "max": total, "prompt_id": prompt_id, "node": node_id},
                       sink.client_id)
        registry = get_progress_state()
        if node_id is not None and registry.prompt_id == prompt_id:
            registry.update_progress(node_id, value, total, preview)

    comfy.utils.set_progress_bar_global_hook(hook)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln reports progress through the run's event sink, not handler registries"

CLIProgressHandler = unsupported_class(__name__, 'CLIProgressHandler', '', _REASON)
NodeProgressState = unsupported_class(__name__, 'NodeProgressState', None, _REASON)
NodeState = unsupported_class(__name__, 'NodeState', None, _REASON)
PreviewImageTuple = UnsupportedValue(__name__, 'PreviewImageTuple', _REASON)
ProgressHandler = unsupported_class(__name__, 'ProgressHandler', 'name', _REASON)
WebUIProgressHandler = unsupported_class(__name__, 'WebUIProgressHandler', 'server_instance', _REASON)
add_progress_handler = unsupported_function(__name__, 'add_progress_handler', 'handler', _REASON)
global_progress_registry = UnsupportedValue(__name__, 'global_progress_registry', _REASON)
