"""Workflows as the editor saves them (the UI format) to the API format the server runs, as the official
frontend's `graphToPrompt()` (comfyui-frontend-package 1.58.1) makes them.

A UI workflow has `nodes` (each with `type`, `mode`, `inputs` that may carry a `link` id, `outputs`,
`widgets_values`), `links` (`[id, origin node, origin slot, target node, target slot, type]`) and, for
subgraphs, `definitions.subgraphs`. The API prompt has one entry per node that runs:
`{"inputs": {...}, "class_type": ..., "_meta": {"title": ...}}`.

How the frontend gets there, and so how this module does:
- **Widgets.** Each node class's interface (its `/object_info` entry) says which inputs are widgets and in which
  order (`input_order`: required, then optional). `widgets_values` fills them by position. Some widgets hold a
  place in `widgets_values` but never reach the prompt: the `control_after_generate` combo after a seed (an INT
  named `seed` or `noise_seed`, or any input with the `control_after_generate` option; a combo also gets a
  `control_filter_list`), the upload button of media pickers. Values past the last widget are ignored; missing
  ones take the input's default. Widget values that are JSON arrays are wrapped as `{"__value__": [...]}` so they
  do not read as links. Text inputs with `dynamicPrompts` lose their `//` and `/* */` comments and have each
  `{a|b|c}` replaced by one of its choices.
- **Links.** An input with a link takes `[origin id, origin slot]` instead of its widget value. Links are followed
  through frontend-only nodes: a legacy `Reroute` passes its input on, a bypassed node (mode 4) passes on the
  input whose type matches the output (the same slot first), a muted node (mode 2) gives nothing; a subgraph's
  inputs and outputs lead to the nodes behind them.
- **Nodes dropped.** Muted and bypassed nodes, and frontend-only nodes (`Note`, `MarkdownNote`, `Reroute`,
  `PrimitiveNode`). A `PrimitiveNode` first writes its value into the widget of every input it feeds.
  Inputs still linked to a dropped node are removed at the end, as the frontend does.
- **Subgraphs.** A node whose type is a subgraph id stands for that subgraph's nodes, which take ids
  `"<instance id>:<inner id>"` (nested: `"a:b:c"`). Its promoted widgets (`widgets_values`, in the order of
  its widget-fed inputs) feed the inner widgets they stand for when nothing is linked to them.
- **`_meta`.** `title` (the node's own, else the class's display name), and the node-pack identity
  (`cnr_id`, `aux_id`, `ver`) from the node's properties when they are well formed.

`convert_workflow` raises `WorkflowFormatError` naming the node (and the widget or input) when the graph cannot
be converted: an unknown node type, a dangling link, more widget values than the interface has widgets, a
subgraph that contains itself.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

MODE_NEVER = 2  # muted: neither runs nor passes anything on
MODE_BYPASS = 4  # bypassed: its inputs pass through to its outputs

# Nodes that live only in the editor (`isVirtualNode` in the frontend).
FRONTEND_ONLY_NODES = frozenset({"Note", "MarkdownNote", "PrimitiveNode", "Reroute"})

# The widget kinds the frontend builds for an input type (anything else is a socket only).
_WIDGET_TYPES = frozenset({"INT", "FLOAT", "BOOLEAN", "STRING", "MARKDOWN", "COMBO", "IMAGEUPLOAD", "COLOR",
                           "IMAGECOMPARE", "BOUNDING_BOX", "CHART", "GALLERIA", "PAINTER", "COMPOSITOR",
                           "TEXTAREA", "CURVE", "RANGE", "VIDEO_EDIT", "RESOLUTION_PREVIEW", "BOUNDING_BOXES",
                           "LIGHT_INFO_PREVIEW", "COLORS", "AUDIO_UI", "AUDIOUPLOAD", "AUDIO_RECORD", "PREVIEW_3D",
                           "LOAD_3D", "LOAD_3D_ANIMATION", "LOAD_3D_ADVANCED", "WEBCAM"})
# Widgets that hold a place in widgets_values but never reach the prompt.
_NOT_IN_PROMPT = frozenset({"IMAGEUPLOAD", "AUDIOUPLOAD"})
# Widgets that neither hold a place in widgets_values nor reach the prompt.
_NOT_STORED = frozenset({"AUDIO_UI"})
_MEDIA_UPLOAD_OPTIONS = ("image_upload", "video_upload", "animated_image_upload")
_AUDIO_UI_NODES = frozenset({"LoadAudio", "SaveAudio", "PreviewAudio", "SaveAudioMP3", "SaveAudioOpus",
                             "SaveAudioAdvanced"})
_PREVIEW_3D_NODES = frozenset({"SaveGLB", "Preview3D"})
_SEED_NAMES = ("seed", "noise_seed")
_PACK_ID = re.compile(r"^[a-zA-Z0-9_.-]+$")  # loose form of the frontend's node-pack id checks


class WorkflowFormatError(ValueError):
    """A UI-format workflow that cannot be converted. `node_id` (the frontend's execution id, `"5"` or
    `"5:3"` inside subgraph instance 5) and `class_type` name the node; `input_name` the widget or input when
    one is at fault."""

    def __init__(self, message: str, *, node_id: str | None = None, class_type: str | None = None,
                 input_name: str | None = None):
        super().__init__(message)
        self.message = message
        self.node_id = node_id
        self.class_type = class_type
        self.input_name = input_name

    def node_error(self) -> dict[str, Any]:
        """This error in the shape of one entry of ComfyUI's `node_errors`."""
        return {"errors": [{"type": "invalid_workflow", "message": self.message,
                            "details": self.input_name or "",
                            "extra_info": {"input_name": self.input_name} if self.input_name else {}}],
                "dependent_outputs": [], "class_type": self.class_type}


# -- what a node class looks like in the editor --------------------------------------------------------------

@dataclass(frozen=True)
class Widget:
    """One widget the frontend puts on a node: `stored` if it takes a place in `widgets_values`, `in_prompt`
    if its value reaches the API prompt under `name`."""

    name: str
    default: Any = None
    stored: bool = True
    in_prompt: bool = True
    dynamic_prompts: bool = False
    optional: bool = False


@dataclass(frozen=True)
class Slot:
    """An input socket: its name, type, and whether a widget of the same name stands behind it."""

    name: str
    type: str
    widget: bool = False


@dataclass(frozen=True)
class NodeLayout:
    """The editor's view of one node class: widgets in `widgets_values` order, input sockets in slot order,
    output types, and the inputs the old `forceInput` layout kept values for."""

    class_type: str
    display_name: str
    widgets: tuple[Widget, ...]
    inputs: tuple[Slot, ...]
    outputs: tuple[str, ...]
    forced_widget_slots: tuple[bool, ...] = ()


def _input_specs(class_type: str, info: Mapping[str, Any]) -> list[tuple[str, str, dict, bool]]:
    """(name, type, options, optional) of the inputs the editor shows, in the order it builds them: required then
    optional, each by `input_order`; then the inputs the frontend itself adds (media upload buttons)."""
    declared = info.get("input") or {}
    required = dict(declared.get("required") or {})
    optional = dict(declared.get("optional") or {})
    # The frontend adds these to the node definition before it builds the node (Comfy.AudioWidget,
    # Comfy.UploadAudio, Comfy.UploadImage, in that order).
    if class_type in _AUDIO_UI_NODES:
        required["audioUI"] = ["AUDIO_UI", {}]
    if class_type in _PREVIEW_3D_NODES:
        required["image"] = ["PREVIEW_3D"]
    audio = required.get("audio")
    if isinstance(audio, list) and len(audio) > 1 and isinstance(audio[1], dict) and audio[1].get("audio_upload"):
        required["upload"] = ["AUDIOUPLOAD", {}]
    for name, spec in list(required.items()):
        options = spec[1] if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict) else {}
        if _spec_type(spec) == "COMBO" and any(options.get(key) for key in _MEDIA_UPLOAD_OPTIONS):
            required["upload"] = ["IMAGEUPLOAD", {**options, "imageInputName": name}]
            break
    order = info.get("input_order") or {}
    names: list[tuple[str, bool]] = []
    if order:
        names += [(name, False) for name in order.get("required") or [] if name in required]
        names += [(name, True) for name in order.get("optional") or [] if name in optional]
    seen = {name for name, _ in names}
    names += [(name, False) for name in required if name not in seen]
    names += [(name, True) for name in optional if name not in seen and name not in required]
    specs = []
    for name, is_optional in names:
        spec = (optional if is_optional else required)[name]
        options = spec[1] if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict) else {}
        specs.append((name, _spec_type(spec), options, is_optional))
    return specs


def _spec_type(spec: Any) -> str:
    kind = spec[0] if isinstance(spec, list) and spec else spec
    if isinstance(kind, list):
        return "COMBO"
    return kind if isinstance(kind, str) else "*"


def _combo_options(spec_options: dict, raw: Any) -> list:
    kind = raw[0] if isinstance(raw, list) and raw else None
    if isinstance(kind, list):
        return kind
    return list(spec_options.get("options") or [])


def _widgets_for(name: str, kind: str, options: dict, combo_values: list) -> list[Widget]:
    """The widgets the frontend builds for one widget input (the value widget and its companions)."""
    if kind in _NOT_STORED:
        return [Widget(name, stored=False, in_prompt=False)]
    if kind in _NOT_IN_PROMPT:
        return [Widget(name, default=None, in_prompt=False)]
    if kind == "INT" or kind == "FLOAT":
        widgets = [Widget(name, default=options.get("default", 0))]
        control = options.get("control_after_generate")
        if control is None and kind == "INT":
            control = name in _SEED_NAMES
        if control:
            widgets.append(_control_widget(control))
        return widgets
    if kind == "BOOLEAN":
        return [Widget(name, default=options.get("default", False))]
    if kind in ("STRING", "TEXTAREA", "MARKDOWN"):
        return [Widget(name, default=options.get("default", ""),
                       dynamic_prompts=options.get("dynamicPrompts") is True)]
    if kind == "COMBO":
        default = options.get("default") or (combo_values[0] if combo_values else None)
        if default is None and options.get("remote"):
            default = "Loading..."
        widgets = [Widget(name, default=default)]
        remote = options.get("remote")
        if isinstance(remote, dict) and remote.get("refresh_button"):
            widgets.append(Widget("refresh", default="refresh", stored=False))
        if options.get("control_after_generate"):
            widgets += [_control_widget(options["control_after_generate"], default="fixed"),
                        Widget("control_filter_list", default="", in_prompt=False)]
        return widgets
    return [Widget(name, default=options.get("default"))]


def _control_widget(control: Any, default: str = "randomize") -> Widget:
    mode = control if isinstance(control, str) and control in ("fixed", "increment", "decrement", "randomize",
                                                               "increment-wrap") else default
    return Widget("control_after_generate", default=mode, in_prompt=False)


def node_layout(class_type: str, info: Mapping[str, Any]) -> NodeLayout:
    """How the frontend builds a node of `class_type` from its `/object_info` entry `info`."""
    declared = info.get("input") or {}
    raw_specs = {**(declared.get("required") or {}), **(declared.get("optional") or {})}
    sockets: list[Slot] = []
    widget_sockets: list[Slot] = []
    widgets: list[Widget] = []
    forced: list[bool] = []
    for name, kind, options, optional in _input_specs(class_type, info):
        widget_kind = options.get("widgetType") or kind
        if widget_kind not in _WIDGET_TYPES or options.get("forceInput"):
            sockets.append(Slot(name, kind))
            if options.get("forceInput") and widget_kind in _WIDGET_TYPES:
                forced.append(True)
            continue
        built = _widgets_for(name, widget_kind, options, _combo_options(options, raw_specs.get(name)))
        if optional:
            built = [replace(widget, optional=True) for widget in built]
        widgets += built
        forced += [False for widget in built if widget.stored]
        if not options.get("socketless") and widget_kind not in _NOT_STORED | _NOT_IN_PROMPT:
            widget_sockets.append(Slot(name, kind, widget=True))
    outputs = tuple(kind if isinstance(kind, str) else "COMBO" for kind in info.get("output") or [])
    return NodeLayout(class_type, str(info.get("display_name") or class_type), tuple(widgets),
                      tuple(sockets + widget_sockets), outputs, tuple(forced))


# -- the graph ------------------------------------------------------------------------------------------------

@dataclass
class _Link:
    origin_id: int | str
    origin_slot: int
    target_id: int | str
    target_slot: int
    type: Any


@dataclass
class _Graph:
    """One graph level: the root workflow, or a subgraph definition."""

    nodes: dict[str, dict]
    links: dict[str, _Link]
    subgraph_id: str | None = None
    inputs: list[dict] = field(default_factory=list)  # a subgraph's input slots
    outputs: list[dict] = field(default_factory=list)  # and its output slots


def _key(value: Any) -> str:
    """Node and link ids as the dict keys used here (JSON may give 5 or "5")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _parse_links(raw_links: Any, where: str) -> dict[str, _Link]:
    links: dict[str, _Link] = {}
    if raw_links is None:
        return links
    if not isinstance(raw_links, list):
        raise WorkflowFormatError(f"{where}: 'links' must be a list")
    for raw in raw_links:
        if isinstance(raw, list) and len(raw) >= 5:
            link_id, origin_id, origin_slot, target_id, target_slot = raw[:5]
            link_type = raw[5] if len(raw) > 5 else None
        elif isinstance(raw, dict) and "id" in raw:
            link_id, origin_id, origin_slot = raw["id"], raw.get("origin_id"), raw.get("origin_slot")
            target_id, target_slot, link_type = raw.get("target_id"), raw.get("target_slot"), raw.get("type")
        elif raw is None:
            continue
        else:
            raise WorkflowFormatError(f"{where}: a link must be [id, origin, slot, target, slot, type], got "
                                      f"{str(raw)[:100]}")
        if not isinstance(origin_slot, int) or not isinstance(target_slot, int):
            raise WorkflowFormatError(f"{where}: link {link_id} has no valid slot numbers")
        links[_key(link_id)] = _Link(origin_id, origin_slot, target_id, target_slot, link_type)
    return links


def _parse_nodes(raw_nodes: Any, where: str) -> dict[str, dict]:
    if not isinstance(raw_nodes, list):
        raise WorkflowFormatError(f"{where}: 'nodes' must be a list")
    nodes: dict[str, dict] = {}
    for node in raw_nodes:
        if not isinstance(node, dict) or "id" not in node or not isinstance(node.get("type"), str):
            raise WorkflowFormatError(f"{where}: every node needs an 'id' and a 'type'")
        nodes[_key(node["id"])] = node
    return nodes


def is_ui_workflow(data: Any) -> bool:
    """Whether `data` looks like a workflow saved from the editor (`nodes` as a list, and `links`)."""
    return isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data


# -- conversion ------------------------------------------------------------------------------------------------

Interfaces = Mapping[str, Mapping[str, Any]]


@dataclass
class _Executable:
    """A node as graphToPrompt sees it: its execution id, its graph level and the subgraph instances around it."""

    id: str
    node: dict
    graph: _Graph
    path: tuple[str, ...]  # execution ids of the enclosing subgraph instances, outermost first
    layout: NodeLayout | None
    widget_values: dict[str, Any] = field(default_factory=dict)
    input_links: dict[int, str | None] = field(default_factory=dict)  # slot -> link id

    @property
    def mode(self) -> int:
        mode = self.node.get("mode", 0)
        return mode if isinstance(mode, int) else 0

    @property
    def type(self) -> str:
        return self.node["type"]


class _Converter:
    def __init__(self, workflow: Mapping[str, Any], interfaces: Interfaces,
                 choose: Callable[[list[str]], str], strict: bool):
        self.interfaces = interfaces
        self.strict = strict
        self.choose = choose
        self.root = _Graph(_parse_nodes(workflow.get("nodes"), "workflow"),
                           _parse_links(workflow.get("links"), "workflow"))
        self.subgraphs = _unique_subgraph_node_ids(workflow, set(self.root.nodes))
        self.levels: dict[str, _Graph] = {}
        self.executables: dict[str, _Executable] = {}

    # -- building the flat list of nodes ------------------------------------------------------------------

    def _level(self, subgraph_id: str) -> _Graph:
        level = self.levels.get(subgraph_id)
        if level is None:
            definition = self.subgraphs[subgraph_id]
            where = f"subgraph {definition.get('name') or subgraph_id}"
            level = _Graph(_parse_nodes(definition.get("nodes") or [], where),
                           _parse_links(definition.get("links") or [], where), subgraph_id,
                           list(definition.get("inputs") or []), list(definition.get("outputs") or []))
            self.levels[subgraph_id] = level
        return level

    def collect(self) -> None:
        self._collect_level(self.root, (), ())

    def _collect_level(self, graph: _Graph, path: tuple[str, ...], open_subgraphs: tuple[str, ...]) -> None:
        for node_key, node in graph.nodes.items():
            execution_id = ":".join((*path, node_key))
            executable = _Executable(execution_id, node, graph, path, self._layout(node, execution_id))
            self.executables[execution_id] = executable
            if executable.mode in (MODE_NEVER, MODE_BYPASS):
                continue
            if node["type"] in self.subgraphs:
                if node["type"] in open_subgraphs:
                    raise WorkflowFormatError(
                        f"Subgraph {self.subgraphs[node['type']].get('name') or node['type']} contains itself "
                        f"(through node {execution_id}): a subgraph cycle cannot be expanded",
                        node_id=execution_id, class_type=node["type"])
                self._collect_level(self._level(node["type"]), (*path, node_key),
                                    (*open_subgraphs, node["type"]))

    def _layout(self, node: dict, execution_id: str) -> NodeLayout | None:
        node_type = node["type"]
        if node_type in FRONTEND_ONLY_NODES or node_type in self.subgraphs:
            return None
        info = self.interfaces.get(node_type)
        if info is None:
            if node.get("mode", 0) in (MODE_NEVER, MODE_BYPASS):
                return None
            raise WorkflowFormatError(f"Node {execution_id} has the unknown type {node_type!r}: no node class of "
                                      "that name is installed", node_id=execution_id, class_type=node_type)
        return node_layout(node_type, info)

    # -- widgets and links per node ------------------------------------------------------------------------

    def _restore_widgets(self, executable: _Executable) -> None:
        layout = executable.layout
        if layout is None:
            return
        values = executable.node.get("widgets_values")
        positional = list(values) if isinstance(values, list) else []
        positional = _migrate_widget_values(layout, positional)
        stored = [widget for widget in layout.widgets if widget.stored]
        missing_required = [widget for widget in stored[len(positional):] if widget.in_prompt and not widget.optional]
        if self.strict and isinstance(values, list) and missing_required:
            missing = missing_required[0]
            raise WorkflowFormatError(
                f"Node {executable.id} ({layout.class_type}) has {len(positional)} widget values but its "
                f"interface has {len(stored)} widgets ({', '.join(w.name for w in stored)}): no value for "
                f"{missing.name!r} (was the workflow saved with another version of this node?)",
                node_id=executable.id, class_type=layout.class_type, input_name=missing.name)
        index = 0
        for widget in layout.widgets:
            value = widget.default
            if widget.stored:
                if index < len(positional):
                    value = positional[index]
                index += 1
            executable.widget_values[widget.name] = value
        for widget in layout.widgets:
            if widget.name == "sampler_name" and layout.class_type in ("KSampler", "KSamplerAdvanced"):
                value = executable.widget_values[widget.name]
                if isinstance(value, str) and value.startswith("sample_"):
                    executable.widget_values[widget.name] = value[len("sample_"):]

    def _slot_links(self, executable: _Executable) -> list[tuple[Slot, str | None]]:
        """The node's input sockets in slot order (its interface's, or its subgraph's inputs, then extras it was
        saved with), each with the id of the link into it, if any. Saved inputs are matched by name, as the
        frontend does when it loads a node."""
        saved = [item for item in executable.node.get("inputs") or [] if isinstance(item, dict)]
        saved_by_name = {item.get("name"): item for item in saved}
        if executable.layout is not None:
            defined = list(executable.layout.inputs)
        elif executable.type in self.subgraphs:
            defined = [Slot(str(item.get("name")), str(item.get("type") or "*"))
                       for item in self._level(executable.type).inputs]
        else:
            defined = []
        defined_names = {slot.name for slot in defined}
        slots = [(slot, _link_key((saved_by_name.get(slot.name) or {}).get("link"))) for slot in defined]
        slots += [(Slot(str(item.get("name")), str(item.get("type") or "*"), widget="widget" in item),
                   _link_key(item.get("link"))) for item in saved if item.get("name") not in defined_names]
        return slots

    def _target_input(self, executable: _Executable, link_id: str, link: _Link) -> str | None:
        """The name of the input of `executable` that link `link_id` feeds."""
        saved = [item for item in executable.node.get("inputs") or [] if isinstance(item, dict)]
        for item in saved:
            if _link_key(item.get("link")) == link_id:
                return str(item.get("name"))
        return str(saved[link.target_slot].get("name")) if link.target_slot < len(saved) else None

    def _link(self, graph: _Graph, link_id: str, executable: _Executable, input_name: str) -> _Link:
        link = graph.links.get(link_id)
        if link is None:
            raise WorkflowFormatError(f"Node {executable.id} ({executable.type}): input {input_name!r} is linked "
                                      f"by link {link_id}, which the workflow does not have (a dangling link)",
                                      node_id=executable.id, class_type=executable.type, input_name=input_name)
        return link

    def resolve_input(self, executable: _Executable, slot_index: int, visited: set[str],
                      wanted_type: Any = None) -> tuple[str, int] | tuple[None, Any] | None:
        """Where input `slot_index` of `executable` comes from: `(origin id, slot)`, `(None, value)` for a
        promoted subgraph widget's value, or None when nothing (that runs) is connected."""
        marker = f"{executable.graph.subgraph_id}:{executable.id}[I]{slot_index}"
        if marker in visited:
            raise WorkflowFormatError(f"Node {executable.id} ({executable.type}): its input {slot_index} leads "
                                      "back to itself (a cycle of links through bypassed or reroute nodes)",
                                      node_id=executable.id, class_type=executable.type)
        visited.add(marker)
        slots = self._slot_links(executable)
        if slot_index >= len(slots):
            return None
        slot, link_id = slots[slot_index]
        if link_id is None:
            return None
        link = self._link(executable.graph, link_id, executable, slot.name)
        origin_key = _key(link.origin_id)
        if executable.graph.subgraph_id is not None and origin_key == "-10":
            return self._resolve_subgraph_input(executable, link.origin_slot, visited)
        origin = self.executables.get(":".join((*executable.path, origin_key)))
        if origin is None:
            raise WorkflowFormatError(f"Node {executable.id} ({executable.type}): input {slot.name!r} is linked "
                                      f"from node {origin_key}, which the workflow does not have",
                                      node_id=executable.id, class_type=executable.type, input_name=slot.name)
        return self.resolve_output(origin, link.origin_slot, wanted_type if wanted_type is not None else slot.type,
                                   visited)

    def _resolve_subgraph_input(self, executable: _Executable, subgraph_slot: int, visited: set[str]):
        instance = self.executables[":".join(executable.path)]
        instance_slots = self._slot_links(instance)
        if subgraph_slot >= len(instance_slots):
            raise WorkflowFormatError(f"Subgraph node {instance.id} has no input {subgraph_slot}",
                                      node_id=instance.id, class_type=instance.type)
        slot, link_id = instance_slots[subgraph_slot]
        if link_id is None:
            if slot.name in instance.widget_values:
                return (None, instance.widget_values[slot.name])
            return None
        return self.resolve_input(instance, subgraph_slot, visited)

    def resolve_output(self, executable: _Executable, slot_index: int, wanted_type: Any, visited: set[str]):
        marker = f"{executable.graph.subgraph_id}:{executable.id}[O]{slot_index}"
        if marker in visited:
            raise WorkflowFormatError(f"Node {executable.id} ({executable.type}): its output {slot_index} leads "
                                      "back to itself", node_id=executable.id, class_type=executable.type)
        visited.add(marker)
        if executable.mode == MODE_NEVER:
            return None
        if executable.mode == MODE_BYPASS:
            matching = self._bypass_slot(executable, slot_index, wanted_type)
            if matching < 0:
                return None
            return self.resolve_input(executable, matching, visited)
        node_type = executable.type
        if node_type in self.subgraphs:
            return self._resolve_subgraph_output(executable, slot_index, wanted_type, visited)
        if node_type in FRONTEND_ONLY_NODES:
            if node_type == "Reroute":
                return self.resolve_input(executable, 0, visited, wanted_type)
            return None
        return (executable.id, slot_index)

    def _resolve_subgraph_output(self, executable: _Executable, slot_index: int, wanted_type: Any,
                                 visited: set[str]):
        level = self._level(executable.type)
        if slot_index >= len(level.outputs):
            raise WorkflowFormatError(f"Subgraph node {executable.id} has no output {slot_index}",
                                      node_id=executable.id, class_type=executable.type)
        for link_id in level.outputs[slot_index].get("linkIds") or []:
            link = level.links.get(_key(link_id))
            if link is None or _key(link.target_id) != "-20":
                continue
            inner = self.executables.get(f"{executable.id}:{_key(link.origin_id)}")
            if inner is None:
                raise WorkflowFormatError(f"Subgraph node {executable.id}: output {slot_index} comes from node "
                                          f"{_key(link.origin_id)}, which the subgraph does not have",
                                          node_id=executable.id, class_type=executable.type)
            return self.resolve_output(inner, link.origin_slot, wanted_type, visited)
        return None

    def _output_types(self, executable: _Executable) -> list[Any]:
        if executable.layout is not None:
            return list(executable.layout.outputs)
        return [item.get("type") for item in executable.node.get("outputs") or [] if isinstance(item, dict)]

    def _bypass_slot(self, executable: _Executable, slot_index: int, wanted_type: Any) -> int:
        """The input a bypassed node passes to output `slot_index`: the same slot if its type fits both the
        output and the consumer, else the first input of exactly the consumer's type, else the first that fits."""
        slots = [slot for slot, _ in self._slot_links(executable)]
        if wanted_type in ("*", "", None):
            return slot_index if len(slots) > slot_index else 0
        output_types = self._output_types(executable)
        output_type = output_types[slot_index] if slot_index < len(output_types) else None
        if slot_index < len(slots):
            opposite = slots[slot_index].type
            if _types_connect(opposite, output_type) and _types_connect(opposite, wanted_type):
                return slot_index
        for index, slot in enumerate(slots):
            if slot.type == wanted_type:
                return index
        for index, slot in enumerate(slots):
            if _types_connect(slot.type, output_type) and _types_connect(slot.type, wanted_type):
                return index
        return -1

    # -- primitives ----------------------------------------------------------------------------------------

    def apply_primitives(self) -> None:
        """Each PrimitiveNode writes its value into the widgets of the inputs it feeds (before anything is read)."""
        for executable in self.executables.values():
            if executable.type != "PrimitiveNode":
                continue
            values = executable.node.get("widgets_values")
            outputs = executable.node.get("outputs") or []
            if not isinstance(values, list) or not values or not outputs:
                continue
            value = values[0]
            for link_id in (outputs[0] or {}).get("links") or []:
                link = executable.graph.links.get(_key(link_id))
                if link is None:
                    continue
                target = self.executables.get(":".join((*executable.path, _key(link.target_id))))
                if target is None:
                    continue
                name = self._target_input(target, _key(link_id), link)
                if name in target.widget_values:
                    target.widget_values[name] = value

    # -- the prompt ----------------------------------------------------------------------------------------

    def prompt(self) -> dict[str, dict]:
        for executable in self.executables.values():
            self._restore_widgets(executable)
        self._restore_promoted_widgets()
        self.apply_primitives()
        output: dict[str, dict] = {}
        for executable in self.executables.values():
            if executable.layout is None or executable.mode in (MODE_NEVER, MODE_BYPASS):
                continue
            if not self._instances_active(executable):
                continue
            inputs: dict[str, Any] = {}
            for widget in executable.layout.widgets:
                if not widget.in_prompt:
                    continue
                value = executable.widget_values[widget.name]
                if widget.dynamic_prompts and isinstance(value, str):
                    value = process_dynamic_prompt(value, self.choose)
                inputs[widget.name] = {"__value__": value} if isinstance(value, list) else value
            for index, (slot, _link_id) in enumerate(self._slot_links(executable)):
                resolved = self.resolve_input(executable, index, set())
                if resolved is None:
                    continue
                origin, slot_or_value = resolved
                if origin is None:
                    inputs[slot.name] = {"__value__": slot_or_value} if isinstance(slot_or_value, list) \
                        else slot_or_value
                else:
                    inputs[slot.name] = [origin, slot_or_value]
            meta: dict[str, Any] = {"title": executable.node.get("title") or executable.layout.display_name}
            properties = executable.node.get("properties") or {}
            for key in ("cnr_id", "aux_id", "ver"):
                value = properties.get(key) if isinstance(properties, dict) else None
                if isinstance(value, str) and value and (key == "ver" or _PACK_ID.match(value)):
                    meta[key] = value
            output[executable.id] = {"inputs": inputs, "class_type": executable.layout.class_type, "_meta": meta}
        for entry in output.values():
            inputs = entry["inputs"]
            for name in list(inputs):
                value = inputs[name]
                if isinstance(value, list) and len(value) == 2 and value[0] not in output:
                    del inputs[name]
        return _ordered_like_javascript(output)

    def _instances_active(self, executable: _Executable) -> bool:
        return all(self.executables[":".join(executable.path[:depth])].mode not in (MODE_NEVER, MODE_BYPASS)
                   for depth in range(1, len(executable.path) + 1))

    def _restore_promoted_widgets(self) -> None:
        """A subgraph instance's `widgets_values` are the values of its inputs that feed inner widgets, in order."""
        for executable in self.executables.values():
            if executable.type not in self.subgraphs:
                continue
            level = self._level(executable.type)
            values = executable.node.get("widgets_values")
            values = list(values) if isinstance(values, list) else []
            index = 0
            for subgraph_input in level.inputs:
                widget_default = self._inner_widget_value(executable, level, subgraph_input)
                if widget_default is _NO_WIDGET:
                    continue
                value = values[index] if index < len(values) else widget_default
                index += 1
                executable.widget_values[str(subgraph_input.get("name"))] = value

    def _inner_widget_value(self, instance: _Executable, level: _Graph, subgraph_input: dict) -> Any:
        for link_id in subgraph_input.get("linkIds") or []:
            link = level.links.get(_key(link_id))
            if link is None:
                continue
            inner = self.executables.get(f"{instance.id}:{_key(link.target_id)}")
            if inner is None:
                continue
            name = self._target_input(inner, _key(link_id), link)
            if name in inner.widget_values:
                return inner.widget_values[name]
        return _NO_WIDGET


_NO_WIDGET = object()


def _flatten_definitions(definitions: Any) -> list[dict]:
    flat: list[dict] = []
    for definition in definitions or []:
        if isinstance(definition, dict) and isinstance(definition.get("id"), str):
            flat.append(definition)
            flat += _flatten_definitions((definition.get("definitions") or {}).get("subgraphs"))
    return flat


def _unique_subgraph_node_ids(workflow: Mapping[str, Any], root_ids: set[str]) -> dict[str, dict]:
    """The subgraph definitions by id, with node ids made unique across the whole workflow as the frontend does
    when it loads one: a definition's node whose id is already taken (by the root graph or an earlier definition)
    gets the next free number after the workflow's last node id, and its links follow."""
    state = workflow.get("state") if isinstance(workflow.get("state"), dict) else {}
    last_id = workflow.get("last_node_id", state.get("lastNodeId", 0))
    last_id = int(last_id) if isinstance(last_id, (int, float)) else 0
    used = set(root_ids)
    used_numbers = {int(key) for key in used if key.lstrip("-").isdigit()}
    definitions: dict[str, dict] = {}
    for original in _flatten_definitions((workflow.get("definitions") or {}).get("subgraphs")):
        if original["id"] in definitions:
            continue  # the first definition of an id wins
        definition = dict(original)
        nodes, renamed = [], {}
        for node in definition.get("nodes") or []:
            key = _key(node.get("id")) if isinstance(node, dict) else None
            if key is None or any(_key(other.get("id")) == key for other in nodes):
                continue
            if key in used:
                new_id = last_id + 1
                while new_id in used_numbers:
                    new_id += 1
                last_id = new_id
                renamed[key] = new_id
                node = {**node, "id": new_id}
                key = str(new_id)
            elif key.lstrip("-").isdigit():
                last_id = max(last_id, int(key))
                used_numbers.add(int(key))
            used.add(key)
            if key.lstrip("-").isdigit():
                used_numbers.add(int(key))
            nodes.append(node)
        definition["nodes"] = nodes
        if renamed:
            definition["links"] = [_renamed_link(link, renamed) for link in definition.get("links") or []]
        definitions[definition["id"]] = definition
    return definitions


def _renamed_link(link: Any, renamed: dict[str, int]) -> Any:
    if isinstance(link, dict):
        return {**link, "origin_id": renamed.get(_key(link.get("origin_id")), link.get("origin_id")),
                "target_id": renamed.get(_key(link.get("target_id")), link.get("target_id"))}
    if isinstance(link, list) and len(link) >= 5:
        return [link[0], renamed.get(_key(link[1]), link[1]), link[2], renamed.get(_key(link[3]), link[3]), *link[4:]]
    return link


def _link_key(value: Any) -> str | None:
    return None if value is None else _key(value)


def _types_connect(type_a: Any, type_b: Any) -> bool:
    """LiteGraph's rule for whether two slot types may be linked: `*`/empty match anything, else equal ignoring
    case, or comma-separated lists that share a type."""
    if type_a in ("", "*", None, 0) or type_b in ("", "*", None, 0) or type_a == type_b:
        return True
    first, second = str(type_a).lower(), str(type_b).lower()
    if "," not in first and "," not in second:
        return first == second
    return any(_types_connect(a, b) for a in first.split(",") for b in second.split(","))


def _migrate_widget_values(layout: NodeLayout, values: list) -> list:
    """Values saved by the old layout in which `forceInput` inputs still had widgets lose those places."""
    if True not in layout.forced_widget_slots:
        return values
    if len(values) == len(layout.forced_widget_slots):
        return [value for value, forced in zip(values, layout.forced_widget_slots, strict=True) if not forced]
    return values


def _ordered_like_javascript(output: dict[str, dict]) -> dict[str, dict]:
    """A JavaScript object lists integer-like keys first, ascending, then the others in insertion order."""
    integer_keys = sorted((key for key in output if key.isdigit() and str(int(key)) == key), key=int)
    rest = [key for key in output if key not in set(integer_keys)]
    return {key: output[key] for key in (*integer_keys, *rest)}


_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n\r\u2028\u2029]*", re.DOTALL)


def process_dynamic_prompt(text: str, choose: Callable[[list[str]], str] = random.choice) -> str:
    """The frontend's dynamic prompts: strip `//` and `/* */` comments, replace each `{a|b|c}` (nested too) with one
    choice made by `choose`; `\\{`, `\\}` and `\\|` stand for the characters themselves."""
    text = _COMMENTS.sub("", text)
    result, _ = _expand(text, 0, choose, top_level=True)
    return re.sub(r"\\([{}|])", r"\1", result)


def _expand(text: str, position: int, choose: Callable[[list[str]], str], *, top_level: bool) -> tuple[str, int]:
    if top_level:
        result = []
        while position < len(text):
            char = text[position]
            position += 1
            if char == "\\":
                result.append("\\" + text[position:position + 1])
                position += 1
            elif char == "{":
                chosen, position = _expand(text, position, choose, top_level=False)
                result.append(chosen)
            else:
                result.append(char)
        return "".join(result), position
    options, choice, depth = [], "", 0
    while position < len(text):
        char = text[position]
        position += 1
        if char == "\\":
            choice += "\\" + text[position:position + 1]
            position += 1
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if not depth:
                break
            depth -= 1
        elif char == "|" and not depth:
            options.append(choice)
            choice = ""
            continue
        choice += char
    options.append(choice)
    chosen = choose(options)
    return _expand(chosen, 0, choose, top_level=True)[0], position


def convert_workflow(workflow: Mapping[str, Any], interfaces: Interfaces,
                     choose: Callable[[list[str]], str] = random.choice, *, strict: bool = True) -> dict[str, dict]:
    """The API-format prompt of the UI-format `workflow`, given each node class's `/object_info` entry in
    `interfaces` (`{class name: info}`). `choose` picks among the choices of a dynamic prompt `{a|b}`.
    Raises WorkflowFormatError (naming the node, and the widget or input) when it cannot be converted."""
    if not is_ui_workflow(workflow):
        raise WorkflowFormatError("Not a UI-format workflow: it needs 'nodes' (a list) and 'links'")
    converter = _Converter(workflow, interfaces, choose, strict)
    converter.collect()
    return converter.prompt()
