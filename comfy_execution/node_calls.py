"""Calling node functions: gathering a node's inputs, mapping the call over input lists, merging the results.

These follow ComfyUI's contract (§4.4 of the protocol reference): every input is a list; a node runs once per
list index unless it sets INPUT_IS_LIST; OUTPUT_IS_LIST outputs are concatenated; an ExecutionBlocker input
skips the call for that index; `async def` functions run as tasks so several can overlap.

V3 nodes (`comfy_api.latest.io.ComfyNode`) get their hidden values apart from their inputs: each call runs on a
locked clone of the node class whose `hidden` holds them, and returns a `NodeOutput`. Their optional hooks
(`fingerprint_inputs`, `validate_inputs`, `check_lazy_status`) count only where the node defines them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import nodes
from comfy_api.internal import _ComfyNodeInternal, _NodeOutputInternal, first_real_override, make_locked_method_func
from comfy_execution.graph import DynamicPrompt, ExecutionBlocker, ExecutionList, get_input_info
from comfy_execution.graph_utils import is_link
from comfy_execution.utils import CurrentNodeContext


def is_v3_node(node: Any) -> bool:
    """Whether a node class (or instance) is a V3 `ComfyNode`."""
    node_class = node if isinstance(node, type) else type(node)
    return issubclass(node_class, _ComfyNodeInternal)


def fingerprint_function_name(class_def: type) -> str | None:
    """The node's IS_CHANGED hook: "fingerprint_inputs" (V3, when defined), "IS_CHANGED" (classic), or None."""
    if is_v3_node(class_def):
        return "fingerprint_inputs" if first_real_override(class_def, "fingerprint_inputs") is not None else None
    return "IS_CHANGED" if hasattr(class_def, "IS_CHANGED") else None


def validate_function_name(class_def: type) -> str | None:
    """The node's input check: "validate_inputs" (V3, when defined), "VALIDATE_INPUTS" (classic), or None."""
    if is_v3_node(class_def):
        return "validate_inputs" if first_real_override(class_def, "validate_inputs") is not None else None
    return "VALIDATE_INPUTS" if getattr(class_def, "VALIDATE_INPUTS", None) is not None else None


def has_lazy_status(class_def: type, obj: Any) -> bool:
    """Whether the node asks which lazy inputs it needs (a V3 node only when it defines `check_lazy_status`)."""
    if is_v3_node(class_def):
        return first_real_override(class_def, "check_lazy_status") is not None
    return getattr(obj, "check_lazy_status", None) is not None


def get_input_data(inputs: dict, class_def: type, unique_id: str, execution_list: ExecutionList | None = None,
                   dynprompt: DynamicPrompt | None = None, extra_data: dict | None = None
                   ) -> tuple[dict[str, list], dict[str, bool], dict[str, Any]]:
    """The node's call arguments as lists: (input_data_all, missing_keys, hidden_inputs).

    Links resolve to the producing node's output list (marked missing while not computed yet); declared
    constants become one-element lists; undeclared constants are dropped; hidden inputs are filled in.
    """
    extra_data = extra_data or {}
    v3_schema = None
    if is_v3_node(class_def):
        valid_inputs, v3_schema = class_def.INPUT_TYPES(include_hidden=False, return_schema=True)
    else:
        valid_inputs = class_def.INPUT_TYPES()
    input_data_all: dict[str, list] = {}
    missing_keys: dict[str, bool] = {}
    for name, value in inputs.items():
        _, category, options = get_input_info(class_def, name, valid_inputs)
        if is_link(value) and not (options and options.get("rawLink", False)):
            source_id, slot = value
            output = execution_list.get_output_cache(source_id, unique_id) if execution_list else None
            if output is None or slot >= len(output):
                missing_keys[name] = True
                input_data_all[name] = [None]
                continue
            input_data_all[name] = output[slot]
        elif category is not None:
            input_data_all[name] = [value]

    if v3_schema is not None:
        return input_data_all, missing_keys, _v3_hidden_values(v3_schema, unique_id, dynprompt, extra_data)
    hidden_inputs: dict[str, Any] = {}
    for name, source in (valid_inputs.get("hidden") or {}).items():
        source = source[0] if isinstance(source, (list, tuple)) else source
        if source == "PROMPT":
            value = dynprompt.get_original_prompt() if dynprompt else None
        elif source == "DYNPROMPT":
            value = dynprompt
        elif source == "EXTRA_PNGINFO":
            value = extra_data.get("extra_pnginfo")
        elif source == "UNIQUE_ID":
            value = unique_id
        elif source == "AUTH_TOKEN_COMFY_ORG":
            value = extra_data.get("auth_token_comfy_org")
        elif source == "API_KEY_COMFY_ORG":
            value = extra_data.get("api_key_comfy_org")
        else:
            continue
        input_data_all[name] = [value]
        hidden_inputs[name] = value
    return input_data_all, missing_keys, hidden_inputs


def _v3_hidden_values(schema: Any, unique_id: str, dynprompt: DynamicPrompt | None, extra_data: dict
                      ) -> dict[Any, Any]:
    """{Hidden member: value} for the hidden values a V3 schema asks for (the prompt is {} outside a run)."""
    from comfy_api.latest._io import Hidden  # deferred: the V3 module imports torch

    sources = {
        Hidden.prompt: lambda: dynprompt.get_original_prompt() if dynprompt is not None else {},
        Hidden.dynprompt: lambda: dynprompt,
        Hidden.extra_pnginfo: lambda: extra_data.get("extra_pnginfo"),
        Hidden.unique_id: lambda: unique_id,
        Hidden.auth_token_comfy_org: lambda: extra_data.get("auth_token_comfy_org"),
        Hidden.api_key_comfy_org: lambda: extra_data.get("api_key_comfy_org"),
    }
    return {member: source() for member, source in sources.items() if member in (schema.hidden or [])}


def _callable_for(obj: Any, func: str, hidden_inputs: dict | None) -> Callable:
    """What one call invokes: `obj.<func>`, or for a V3 node its classmethod bound to a locked clone of the class
    that carries this call's hidden values."""
    if not is_v3_node(obj):
        return getattr(obj, func)
    node_class = obj if isinstance(obj, type) else type(obj)
    node_class.VALIDATE_CLASS()
    return make_locked_method_func(node_class, func, node_class.PREPARE_CLASS_CLONE(hidden_inputs))


async def map_node_over_list(prompt_id: str, unique_id: str, obj: Any, input_data_all: dict[str, list],
                             func: str, allow_interrupt: bool = False,
                             execution_block_cb: Callable[[ExecutionBlocker], Any] | None = None,
                             pre_execute_cb: Callable[[int], None] | None = None,
                             hidden_inputs: dict | None = None) -> list:
    """Call `obj.<func>` once per list index (or once with whole lists for INPUT_IS_LIST).

    `hidden_inputs` are a V3 node's hidden values (`get_input_data`'s third result). Returns one result per call;
    an `async def` call that has not finished yet is returned as its task.
    """
    input_is_list = getattr(obj, "INPUT_IS_LIST", False)
    max_len = max((len(values) for values in input_data_all.values()), default=0)
    results: list = []

    async def call(arguments: dict[str, Any], index: int) -> None:
        if allow_interrupt:
            nodes.before_node_execution()
        blocker = _find_blocker(arguments, input_is_list)
        if blocker is not None:
            results.append(execution_block_cb(blocker) if execution_block_cb else blocker)
            return
        if pre_execute_cb is not None:
            pre_execute_cb(index)
        function = _callable_for(obj, func, hidden_inputs)
        if inspect.iscoroutinefunction(function):
            task = asyncio.create_task(_run_in_context(function, arguments, prompt_id, unique_id, index))
            await asyncio.sleep(0)
            results.append(task.result() if task.done() else task)
        else:
            with CurrentNodeContext(prompt_id, unique_id, index):
                result = function(**arguments)
            if inspect.isawaitable(result):
                result = await result
            results.append(result)

    if input_is_list:
        await call(input_data_all, 0)
    elif max_len == 0:
        await call({}, 0)
    else:
        for index in range(max_len):
            await call({name: values[index if index < len(values) else -1]
                        for name, values in input_data_all.items()}, index)
    return results


async def _run_in_context(function: Callable, arguments: dict, prompt_id: str, unique_id: str, index: int) -> Any:
    with CurrentNodeContext(prompt_id, unique_id, index):
        return await function(**arguments)


def _find_blocker(arguments: dict[str, Any], input_is_list: bool) -> ExecutionBlocker | None:
    for value in arguments.values():
        if input_is_list and isinstance(value, list):
            for element in value:
                if isinstance(element, ExecutionBlocker):
                    return element
        if isinstance(value, ExecutionBlocker):
            return value
    return None


async def resolve_results(results: list) -> list:
    """Await the tasks among `results` (async calls) and return plain values."""
    return [await result if isinstance(result, asyncio.Task) else result for result in results]


def merge_result_data(results: list[tuple], obj: Any) -> list[list]:
    """Per-output lists from per-call result tuples; OUTPUT_IS_LIST outputs are concatenated."""
    results = [tuple(result) if result is not None else () for result in results]
    width = len(results[0]) if results else 0
    output_is_list = getattr(obj, "OUTPUT_IS_LIST", None) or (False,) * width
    output = []
    for index in range(width):
        if index < len(output_is_list) and output_is_list[index]:
            merged: list = []
            for result in results:
                value = result[index]
                if isinstance(value, ExecutionBlocker):
                    merged.append(value)
                else:
                    merged.extend(value)
            output.append(merged)
        else:
            output.append([result[index] if index < len(result) else None for result in results])
    return output


def get_output_from_returns(return_values: list, obj: Any) -> tuple[list, dict, bool]:
    """(outputs, ui, has_subgraph) from the values a node's calls returned.

    With a subgraph, `outputs` is a list of (graph or None, result tuple) per call.
    """
    results: list = []
    uis: list[dict] = []
    subgraph_results: list = []
    has_subgraph = False
    num_outputs = len(getattr(obj, "RETURN_TYPES", ()))
    for value in return_values:
        if isinstance(value, _NodeOutputInternal):
            if value.ui is not None:
                uis.append(value.ui if isinstance(value.ui, dict) else value.ui.as_dict())
            blocked = (ExecutionBlocker(value.block_execution),) * num_outputs \
                if value.block_execution is not None else None
            if value.expand is not None:
                has_subgraph = True
                subgraph_results.append((value.expand, blocked or value.result))
            elif value.result is not None:  # as in ComfyUI, a NodeOutput without values adds no result
                result = blocked or value.result
                results.append(result)
                subgraph_results.append((None, result))
        elif isinstance(value, dict):
            if value.get("ui") is not None:
                uis.append(value["ui"])
            result = value.get("result")
            if isinstance(result, ExecutionBlocker):
                result = (result,) * num_outputs
            if "expand" in value:
                has_subgraph = True
                subgraph_results.append((value["expand"], result))
            elif "result" in value:
                results.append(result)
                subgraph_results.append((None, result))
        else:
            if isinstance(value, ExecutionBlocker):
                value = (value,) * num_outputs
            results.append(value)
            subgraph_results.append((None, value))
    if has_subgraph:
        output = subgraph_results
    elif results:
        output = merge_result_data(results, obj)
    else:
        output = []
    return output, merge_ui(uis), has_subgraph


def merge_ui(uis: list[dict]) -> dict:
    """One ui dict from per-call ui dicts: list values are concatenated, keys from the first call."""
    if not uis:
        return {}
    if len(uis) == 1:
        return dict(uis[0])
    merged = {}
    for key in uis[0]:
        values: list = []
        for ui in uis:
            value = ui.get(key)
            if isinstance(value, (list, tuple)):
                values.extend(value)
            elif value is not None:
                values.append(value)
        merged[key] = values
    return merged


def class_is_output_node(class_def: type) -> bool:
    return getattr(class_def, "OUTPUT_NODE", False) is True
