"""The V3 node classes (`io.ComfyNode`, `io.Schema`, `io.NodeOutput`, `io.Hidden`).

A V3 node is a class of classmethods: `define_schema()` returns a `Schema` (id, category, inputs, outputs, flags)
and `execute(**inputs)` returns a `NodeOutput`. The class also answers the classic contract (`INPUT_TYPES`,
`RETURN_TYPES`, `FUNCTION`, ...) derived from its schema, so the executor, validation and `/object_info` treat it
like any node; what differs is how it is called (a locked clone of the class per call, hidden values on
`cls.hidden`) and how its description renders (`GET_NODE_INFO_V1`: every option dict present, combos as
`["COMBO", {"options": [...]}]`, hidden inputs as one-element lists, every V3 flag present).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from comfy_api.internal import (
    _ComfyNodeInternal,
    _NodeOutputInternal,
    classproperty,
    first_real_override,
    is_class,
    shallow_clone_class,
)
from comfy_api.latest._io_types import DynamicInput, Input, Output
from comfy_execution.graph import ExecutionBlocker

# --- hidden values ---------------------------------------------------------------------------------------------


class Hidden(str, Enum):
    """Values a node may ask for without a socket; they arrive on `cls.hidden`."""

    unique_id = "UNIQUE_ID"
    """The node's id in the prompt (the frontend's node id)."""
    prompt = "PROMPT"
    """The whole prompt as the client sent it."""
    extra_pnginfo = "EXTRA_PNGINFO"
    """The prompt's extra_data.extra_pnginfo (the workflow), saved into image metadata."""
    dynprompt = "DYNPROMPT"
    """The DynamicPrompt, which grows as nodes expand."""
    auth_token_comfy_org = "AUTH_TOKEN_COMFY_ORG"
    """extra_data.auth_token_comfy_org (a Comfy.org sign-in token)."""
    api_key_comfy_org = "API_KEY_COMFY_ORG"
    """extra_data.api_key_comfy_org (a Comfy.org API key)."""


class HiddenHolder:
    """The hidden values of one call; any value the node did not ask for reads as None."""

    def __init__(self, unique_id: str | None, prompt: Any, extra_pnginfo: Any, dynprompt: Any,
                 auth_token_comfy_org: str | None, api_key_comfy_org: str | None, **kwargs: Any):
        self.unique_id = unique_id
        self.prompt = prompt
        self.extra_pnginfo = extra_pnginfo
        self.dynprompt = dynprompt
        self.auth_token_comfy_org = auth_token_comfy_org
        self.api_key_comfy_org = api_key_comfy_org

    def __getattr__(self, key: str) -> None:
        return None

    @classmethod
    def from_dict(cls, values: dict | None) -> HiddenHolder:
        """From `{Hidden member: value}`."""
        values = values or {}
        return cls(**{member.name: values.get(member) for member in Hidden})


# --- schema ----------------------------------------------------------------------------------------------------


@dataclass
class NodeInfoV1:
    input: dict = None
    input_order: dict[str, list[str]] = None
    output: list[str] = None
    output_is_list: list[bool] = None
    output_name: list[str] = None
    output_tooltips: list[str] = None
    name: str = None
    display_name: str = None
    description: str = None
    python_module: Any = None
    category: str = None
    output_node: bool = None
    deprecated: bool = None
    experimental: bool = None
    api_node: bool = None


@dataclass
class NodeInfoV3:
    input: dict = None
    output: dict = None
    hidden: list[str] = None
    name: str = None
    display_name: str = None
    description: str = None
    category: str = None
    output_node: bool = None
    deprecated: bool = None
    experimental: bool = None
    api_node: bool = None
    python_module: Any = None


def add_to_dict_v1(item: Input, inputs: dict) -> None:
    """Add one input to a classic INPUT_TYPES dict, under "optional" or "required", as `(type, options)`."""
    options = item.as_dict()
    options.pop("optional", None)
    inputs.setdefault("optional" if item.optional else "required", {})[item.id] = (item.get_io_type(), options)


def add_to_dict_v3(item: Input | Output, entries: dict) -> None:
    entries[item.id] = (item.get_io_type(), item.as_dict())


@dataclass
class Schema:
    """What a V3 node is: its id, inputs, outputs, hidden values and flags."""

    node_id: str
    """The registered node name; custom packs should prefix it to stay unique."""
    display_name: str = None
    category: str = "sd"
    inputs: list[Input] = None
    outputs: list[Output] = None
    hidden: list[Hidden] = None
    description: str = ""
    is_input_list: bool = False
    """The node takes whole lists in one call (classic INPUT_IS_LIST)."""
    is_output_node: bool = False
    """The node is an output: prompts run it and what feeds it (it also gets the prompt and extra_pnginfo)."""
    is_deprecated: bool = False
    is_experimental: bool = False
    is_api_node: bool = False
    """The node calls Comfy.org's API (it also gets the auth token and API key)."""
    not_idempotent: bool = False
    """Never share this node's cached result with an identical node elsewhere in the graph."""
    enable_expand: bool = False
    """The node may return `NodeOutput(expand=...)` (a sub-graph)."""

    def validate(self) -> None:
        """ValueError unless input ids, output ids, and the two together are unique."""
        input_ids = [item.id for item in self.inputs or []]
        output_ids = [item.id for item in self.outputs or []]
        issues = []
        if len(set(input_ids)) != len(input_ids):
            repeated = [item for item, count in Counter(input_ids).items() if count > 1]
            issues.append(f"Input ids must be unique, but {repeated} are not.")
        if len(set(output_ids)) != len(output_ids):
            repeated = [item for item, count in Counter(output_ids).items() if count > 1]
            issues.append(f"Output ids must be unique, but {repeated} are not.")
        shared = set(input_ids) & set(output_ids)
        if shared:
            issues.append(f"Ids must be unique between inputs and outputs, but {shared} are not.")
        if issues:
            raise ValueError("\n".join(issues))

    def finalize(self) -> None:
        """Add the hidden values API and output nodes need, and ids `_<index>_<type>_` to outputs without one."""
        needed = []
        if self.is_api_node:
            needed += [Hidden.auth_token_comfy_org, Hidden.api_key_comfy_org]
        if self.is_output_node:
            needed += [Hidden.prompt, Hidden.extra_pnginfo]
        for value in needed:
            if self.hidden is None:
                self.hidden = []
            if value not in self.hidden:
                self.hidden.append(value)
        for index, output in enumerate(self.outputs or []):
            if output.id is None:
                output.id = f"_{index}_{output.io_type}_"

    def get_v1_info(self, cls: type) -> NodeInfoV1:
        """The classic description (`/object_info`'s entry); dynamic inputs are expanded."""
        inputs: dict = {"required": {}}
        for item in self.inputs or []:
            for expanded in (item.get_dynamic() if isinstance(item, DynamicInput) else [item]):
                add_to_dict_v1(expanded, inputs)
        for value in self.hidden or []:
            inputs.setdefault("hidden", {})[value.name] = (value.value,)
        outputs = self.outputs or []
        return NodeInfoV1(
            input=inputs,
            input_order={section: list(entries) for section, entries in inputs.items()},
            output=[output.io_type for output in outputs],
            output_is_list=[output.is_output_list for output in outputs],
            output_name=[output.display_name or output.io_type for output in outputs],
            output_tooltips=[output.tooltip or None for output in outputs],
            name=self.node_id,
            display_name=self.display_name,
            description=self.description,
            python_module=getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes"),
            category=self.category,
            output_node=self.is_output_node,
            deprecated=self.is_deprecated,
            experimental=self.is_experimental,
            api_node=self.is_api_node,
        )

    def get_v3_info(self, cls: type) -> NodeInfoV3:
        """The V3 description: inputs and outputs by id with their own options, hidden values by name."""
        inputs: dict = {}
        outputs: dict = {}
        for item in self.inputs or []:
            add_to_dict_v3(item, inputs)
        for item in self.outputs or []:
            add_to_dict_v3(item, outputs)
        return NodeInfoV3(
            input=inputs, output=outputs, hidden=[value.value for value in self.hidden or []], name=self.node_id,
            display_name=self.display_name, description=self.description, category=self.category,
            output_node=self.is_output_node, deprecated=self.is_deprecated, experimental=self.is_experimental,
            api_node=self.is_api_node, python_module=getattr(cls, "RELATIVE_PYTHON_MODULE", "nodes"))


@dataclass(frozen=True)
class _ClassicFacts:
    """What a V3 node answers to the classic class attributes, read once from its schema."""

    return_types: list
    return_names: list
    output_is_list: list[bool]
    output_tooltips: list
    description: str
    category: str
    experimental: bool
    deprecated: bool
    api_node: bool
    output_node: bool
    input_is_list: bool
    not_idempotent: bool
    enable_expand: bool

    @classmethod
    def of(cls, schema: Schema) -> _ClassicFacts:
        outputs = schema.outputs or []
        return cls(
            return_types=[output.io_type for output in outputs],
            return_names=[output.display_name or output.io_type for output in outputs],
            output_is_list=[output.is_output_list for output in outputs],
            output_tooltips=[output.tooltip or None for output in outputs],
            description=schema.description, category=schema.category, experimental=schema.is_experimental,
            deprecated=schema.is_deprecated, api_node=schema.is_api_node, output_node=schema.is_output_node,
            input_is_list=schema.is_input_list, not_idempotent=schema.not_idempotent,
            enable_expand=schema.enable_expand)


def _normalized_output(cls: type, returned: Any) -> NodeOutput:
    """Whatever `execute` returned as a NodeOutput (None, tuple, dict, ExecutionBlocker are accepted)."""
    if returned is None:
        output = NodeOutput()
    elif isinstance(returned, NodeOutput):
        output = returned
    elif isinstance(returned, tuple):
        output = NodeOutput(*returned)
    elif isinstance(returned, dict):
        output = NodeOutput.from_dict(returned)
    elif isinstance(returned, ExecutionBlocker):
        output = NodeOutput(block_execution=returned.message)
    else:
        raise Exception(f"Invalid return type from node: {type(returned)}")
    if output.expand is not None and not cls._classic_facts().enable_expand:
        raise Exception(f"Node {cls.__name__} is not expandable, but expand included in NodeOutput; developer "
                        "should set enable_expand=True on node's Schema to allow this.")
    return output


class _ComfyNodeBaseInternal(_ComfyNodeInternal):
    """The machinery every V3 node shares; define nodes by subclassing `ComfyNode`."""

    RELATIVE_PYTHON_MODULE = None
    SCHEMA = None
    resources = None
    hidden: HiddenHolder = None
    """The hidden values of the current call (set on the call's class clone)."""

    @classmethod
    @abstractmethod
    def define_schema(cls) -> Schema:
        """Return this node's Schema."""
        raise NotImplementedError

    @classmethod
    @abstractmethod
    def execute(cls, **kwargs: Any) -> NodeOutput:
        """Do the node's work; inputs arrive as keywords by id."""
        raise NotImplementedError

    @classmethod
    def validate_inputs(cls, **kwargs: Any) -> bool | str:
        """Optional (classic VALIDATE_INPUTS): True, or a message saying what is wrong."""
        raise NotImplementedError

    @classmethod
    def fingerprint_inputs(cls, **kwargs: Any) -> Any:
        """Optional (classic IS_CHANGED): the node re-runs when this value differs from the last run's."""
        raise NotImplementedError

    @classmethod
    def check_lazy_status(cls, **kwargs: Any) -> list[str]:
        """Optional: the names of lazy inputs still needed (unevaluated ones arrive as None)."""
        return [name for name in kwargs if kwargs[name] is None]

    def __init__(self) -> None:
        self.local_resources = None
        self.__class__.VALIDATE_CLASS()

    @classmethod
    def GET_BASE_CLASS(cls) -> type:
        return _ComfyNodeBaseInternal

    @classmethod
    def VALIDATE_CLASS(cls) -> None:
        """Exception unless the class defines `define_schema` and `execute`."""
        if first_real_override(cls, "define_schema") is None:
            raise Exception(f"No define_schema function was defined for node class {cls.__name__}.")
        if first_real_override(cls, "execute") is None:
            raise Exception(f"No execute function was defined for node class {cls.__name__}.")

    @classproperty
    def FUNCTION(cls) -> str:
        return "EXECUTE_NORMALIZED_ASYNC" if inspect.iscoroutinefunction(cls.execute) else "EXECUTE_NORMALIZED"

    @classmethod
    def EXECUTE_NORMALIZED(cls, *args: Any, **kwargs: Any) -> NodeOutput:
        """`execute`, its result as a NodeOutput."""
        return _normalized_output(cls, cls.execute(*args, **kwargs))

    @classmethod
    async def EXECUTE_NORMALIZED_ASYNC(cls, *args: Any, **kwargs: Any) -> NodeOutput:
        """`await execute`, its result as a NodeOutput."""
        return _normalized_output(cls, await cls.execute(*args, **kwargs))

    @classmethod
    def PREPARE_CLASS_CLONE(cls, hidden_inputs: dict | None) -> type:
        """A subclass of the node class for one call, holding that call's hidden values on `hidden`."""
        node_class = cls if is_class(cls) else type(cls)
        facts = node_class._classic_facts()
        clone = shallow_clone_class(node_class)
        clone.hidden = HiddenHolder.from_dict(hidden_inputs)
        clone._clone_source = node_class
        clone._facts_cache = (node_class, facts)
        return clone

    @classmethod
    def GET_NODE_INFO_V3(cls) -> dict[str, Any]:
        return asdict(cls.GET_SCHEMA().get_v3_info(cls))

    @classmethod
    def GET_NODE_INFO_V1(cls) -> dict[str, Any]:
        """The node's `/object_info` entry."""
        return asdict(cls.GET_SCHEMA().get_v1_info(cls))

    @classmethod
    def _classic_facts(cls) -> _ClassicFacts:
        cached = getattr(cls, "_facts_cache", None)
        if cached is not None and (cached[0] is cls or getattr(cls, "_clone_source", None) is cached[0]):
            return cached[1]
        cls.GET_SCHEMA()
        return cls._facts_cache[1]

    @classproperty
    def DESCRIPTION(cls) -> str:
        return cls._classic_facts().description

    @classproperty
    def CATEGORY(cls) -> str:
        return cls._classic_facts().category

    @classproperty
    def EXPERIMENTAL(cls) -> bool:
        return cls._classic_facts().experimental

    @classproperty
    def DEPRECATED(cls) -> bool:
        return cls._classic_facts().deprecated

    @classproperty
    def API_NODE(cls) -> bool:
        return cls._classic_facts().api_node

    @classproperty
    def OUTPUT_NODE(cls) -> bool:
        return cls._classic_facts().output_node

    @classproperty
    def INPUT_IS_LIST(cls) -> bool:
        return cls._classic_facts().input_is_list

    @classproperty
    def OUTPUT_IS_LIST(cls) -> list[bool]:
        return cls._classic_facts().output_is_list

    @classproperty
    def RETURN_TYPES(cls) -> list:
        return cls._classic_facts().return_types

    @classproperty
    def RETURN_NAMES(cls) -> list:
        return cls._classic_facts().return_names

    @classproperty
    def OUTPUT_TOOLTIPS(cls) -> list:
        return cls._classic_facts().output_tooltips

    @classproperty
    def NOT_IDEMPOTENT(cls) -> bool:
        return cls._classic_facts().not_idempotent

    @classmethod
    def INPUT_TYPES(cls, include_hidden: bool = True, return_schema: bool = False) -> Any:
        """The classic INPUT_TYPES dict (from a fresh schema, so file lists are current); with `return_schema`,
        `(inputs, schema)`."""
        schema = cls.FINALIZE_SCHEMA()
        inputs = schema.get_v1_info(cls).input
        if not include_hidden:
            inputs.pop("hidden", None)
        return (inputs, schema) if return_schema else inputs

    @classmethod
    def FINALIZE_SCHEMA(cls) -> Schema:
        """`define_schema()`, finalized."""
        schema = cls.define_schema()
        schema.finalize()
        return schema

    @classmethod
    def GET_SCHEMA(cls) -> Schema:
        """The finalized, validated schema; the first call also fixes the classic attributes (RETURN_TYPES...)."""
        cls.VALIDATE_CLASS()
        schema = cls.FINALIZE_SCHEMA()
        schema.validate()
        cached = cls.__dict__.get("_facts_cache")
        if cached is None or cached[0] is not cls:
            cls._facts_cache = (cls, _ClassicFacts.of(schema))
        cls.SCHEMA = schema
        return schema


class ComfyNode(_ComfyNodeBaseInternal):
    """Base class of V3 nodes: implement the classmethods `define_schema` and `execute`; optionally
    `validate_inputs`, `fingerprint_inputs` and `check_lazy_status`."""

    @classmethod
    @abstractmethod
    def define_schema(cls) -> Schema:
        """Return this node's Schema."""
        raise NotImplementedError

    @classmethod
    @abstractmethod
    def execute(cls, **kwargs: Any) -> NodeOutput:
        """Do the node's work; inputs arrive as keywords by id."""
        raise NotImplementedError

    @classmethod
    def validate_inputs(cls, **kwargs: Any) -> bool:
        """Optional (classic VALIDATE_INPUTS): True, or a message saying what is wrong."""
        raise NotImplementedError

    @classmethod
    def fingerprint_inputs(cls, **kwargs: Any) -> Any:
        """Optional (classic IS_CHANGED): the node re-runs when this value differs from the last run's."""
        raise NotImplementedError

    @classmethod
    def check_lazy_status(cls, **kwargs: Any) -> list[str]:
        """Optional: the names of lazy inputs still needed (unevaluated ones arrive as None)."""
        return [name for name in kwargs if kwargs[name] is None]

    @classmethod
    def GET_BASE_CLASS(cls) -> type:
        return ComfyNode


class NodeOutput(_NodeOutputInternal):
    """What `execute` returns: the output values in order, and optionally `ui` (a `ui.*` object or a dict),
    `expand` (a sub-graph; needs `enable_expand`) or `block_execution` (a message; blocks the outputs)."""

    def __init__(self, *args: Any, ui: _UIOutput | dict | None = None, expand: dict | None = None,
                 block_execution: str | None = None):
        self.args = args
        self.ui = ui
        self.expand = expand
        self.block_execution = block_execution

    @property
    def result(self) -> tuple | None:
        return self.args if len(self.args) > 0 else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeOutput:
        """From a classic `{"result": ..., "ui": ..., "expand": ...}` dict."""
        result = data.get("result", ())
        if isinstance(result, ExecutionBlocker):
            return cls(block_execution=result.message)
        return cls(*(result or ()), ui=data.get("ui"), expand=data.get("expand"))

    def __getitem__(self, index: int) -> Any:
        return self.args[index]


class _UIOutput(ABC):
    """A node's ui result (`ui=` of NodeOutput); `as_dict()` is what `executed` and the history show."""

    @abstractmethod
    def as_dict(self) -> dict:
        ...
