"""Checking a prompt before it is queued, with ComfyUI's error types and JSON shapes (§3 of the reference).

ComfyUI validates recursively from each output node and overflows the Python stack at about 1,000 chained
nodes. Here every output's upstream nodes are put in order with an explicit stack and checked upstream first,
so a node's check can read its sources' results; depth costs nothing. Static cycles are reported as such.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from typing import Any

import nodes
from comfy.cli_args import args
from comfy_execution.graph import ExecutionBlocker, get_input_info
from comfy_execution.node_calls import get_input_data, map_node_over_list, resolve_results, validate_function_name

# Kiln's limit on one string constant: a 1 MB prompt is a mistake or an attack, not a prompt.
MAX_STRING_INPUT_LENGTH = 256 * 1024

Reason = dict[str, Any]
Result = tuple[bool, list[Reason], str]


def full_type_name(klass: type) -> str:
    module = klass.__module__
    return klass.__qualname__ if module == "builtins" else f"{module}.{klass.__qualname__}"


def validate_node_input(received_type: Any, input_type: Any, strict: bool = False) -> bool:
    """Whether a link of `received_type` may feed an input of `input_type` (equal, `*`, or comma sets that meet)."""
    # `not a != b` on purpose: str subclasses (IO.ANY and custom-node wildcards) override __ne__.
    if not received_type != input_type:
        return True
    if not isinstance(received_type, str) or not isinstance(input_type, str):
        return False
    received = {part.strip() for part in received_type.split(",")}
    expected = {part.strip() for part in input_type.split(",")}
    if strict:
        return received.issubset(expected)
    return len(received & expected) > 0


def _reason(error_type: str, message: str, details: str, extra_info: dict) -> Reason:
    return {"type": error_type, "message": message, "details": details, "extra_info": extra_info}


class _Raised(Exception):
    """A node's check raised: its consumer reports it as exception_during_inner_validation."""

    def __init__(self, exception: BaseException):
        super().__init__(str(exception))
        self.exception = exception
        self.traceback_lines = traceback.format_tb(exception.__traceback__)


def _declared_links(prompt: dict, node_id: str) -> list[tuple[str, Any]]:
    """(input name, value) of the declared inputs of a node whose value is a list (a link or a bad link)."""
    node = prompt[node_id]
    class_def = nodes.NODE_CLASS_MAPPINGS.get(node.get("class_type"))
    if class_def is None:
        return []
    try:
        declared = class_def.INPUT_TYPES()
    except Exception:
        return []
    names = set(declared.get("required") or {}) | set(declared.get("optional") or {})
    return [(name, value) for name, value in node.get("inputs", {}).items()
            if name in names and isinstance(value, list)]


def _upstream_order(prompt: dict, output_id: str, order_cache: set[str]) -> tuple[list[str], list[list[str]]]:
    """Nodes feeding `output_id` (itself last), each after its sources; plus any static cycles found."""
    order: list[str] = []
    cycles: list[list[str]] = []
    on_path: dict[str, int] = {}
    path: list[str] = []
    stack: list[tuple[str, bool]] = [(output_id, False)]
    while stack:
        node_id, leaving = stack.pop()
        if leaving:
            path.pop()
            del on_path[node_id]
            order_cache.add(node_id)
            order.append(node_id)
            continue
        if node_id in order_cache:
            continue
        if node_id in on_path:
            continue
        on_path[node_id] = len(path)
        path.append(node_id)
        stack.append((node_id, True))
        for _, value in _declared_links(prompt, node_id):
            if len(value) != 2 or value[0] not in prompt:
                continue
            source = value[0]
            if source in on_path:
                cycles.append(path[on_path[source]:])
            elif source not in order_cache:
                stack.append((source, False))
    return order, cycles


async def _validate_node(prompt_id: str, prompt: dict, unique_id: str, validated: dict[str, Result],
                         raised: dict[str, _Raised]) -> Result:
    """Check one node whose sources are already in `validated` (or `raised`). Raises `_Raised` where ComfyUI's
    check would raise (a link to a missing node, a bad slot)."""
    inputs = prompt[unique_id]["inputs"]
    class_type = prompt[unique_id]["class_type"]
    obj_class = nodes.NODE_CLASS_MAPPINGS[class_type]
    class_inputs = obj_class.INPUT_TYPES()
    valid_inputs = list(class_inputs.get("required") or {}) + list(class_inputs.get("optional") or {})

    errors: list[Reason] = []
    valid = True
    validate_function_inputs: list[str] = []
    validate_has_kwargs = False
    validate_name = validate_function_name(obj_class)
    validate_function = getattr(obj_class, validate_name) if validate_name is not None else None
    if validate_function is not None:
        argspec = inspect.getfullargspec(validate_function)
        validate_function_inputs = argspec.args
        validate_has_kwargs = argspec.varkw is not None
    received_types: dict[str, Any] = {}

    for name in valid_inputs:
        input_type, input_category, extra_info = get_input_info(obj_class, name, class_inputs)
        extra_info = extra_info or {}
        if name not in inputs:
            if input_category == "required":
                errors.append(_reason("required_input_missing", "Required input is missing", name,
                                      {"input_name": name}))
            continue
        value = inputs[name]
        info = [input_type, extra_info]
        if isinstance(value, list):
            if len(value) != 2:
                errors.append(_reason("bad_linked_input",
                                      "Bad linked input, must be a length-2 list of [node_id, slot_index]", name,
                                      {"input_name": name, "input_config": info, "received_value": value}))
                continue
            source_id = value[0]
            try:
                source_class = nodes.NODE_CLASS_MAPPINGS[prompt[source_id]["class_type"]]
                received_type = source_class.RETURN_TYPES[value[1]]
            except Exception as ex:
                raise _Raised(ex) from ex
            received_types[name] = received_type
            if "input_types" not in validate_function_inputs and not validate_node_input(received_type, input_type):
                details = f"{name}, received_type({received_type}) mismatch input_type({input_type})"
                errors.append(_reason("return_type_mismatch", "Return type mismatch between linked nodes", details,
                                      {"input_name": name, "input_config": info, "received_type": received_type,
                                       "linked_node": value}))
                continue
            if source_id in raised and source_id not in validated:
                failure = raised[source_id]
                ex = failure.exception
                validated[source_id] = (False, [_reason(
                    "exception_during_inner_validation", "Exception when validating inner node", str(ex),
                    {"input_name": name, "input_config": info, "exception_message": str(ex),
                     "exception_type": full_type_name(type(ex)), "traceback": failure.traceback_lines,
                     "linked_node": value})], source_id)
            source_result = validated.get(source_id)
            if source_result is not None and source_result[0] is False:
                valid = False
            continue

        try:
            if isinstance(value, dict) and "__value__" in value:
                value = value["__value__"]
                inputs[name] = value
            # Plain string comparison: wildcard types (IO.ANY, custom `*` types) compare equal to every type,
            # but a constant for a `*` input is taken as it is, as in ComfyUI.
            declared_type = str.__str__(input_type) if isinstance(input_type, str) else None
            if declared_type == "INT":
                value = int(value)
            elif declared_type == "FLOAT":
                value = float(value)
            elif declared_type == "STRING":
                value = str(value)
            elif declared_type == "BOOLEAN":
                value = bool(value)
            inputs[name] = value
        except Exception as ex:
            errors.append(_reason("invalid_input_type", f"Failed to convert an input value to a {input_type} value",
                                  f"{name}, {value}, {ex}",
                                  {"input_name": name, "input_config": info, "received_value": value,
                                   "exception_message": str(ex)}))
            continue

        if isinstance(value, str) and len(value) > MAX_STRING_INPUT_LENGTH:
            errors.append(_reason("value_too_long",
                                  f"String of {len(value)} characters is longer than the limit of "
                                  f"{MAX_STRING_INPUT_LENGTH}", name,
                                  {"input_name": name, "max_length": MAX_STRING_INPUT_LENGTH,
                                   "received_length": len(value)}))
            continue

        if name not in validate_function_inputs and not validate_has_kwargs:
            try:
                if "min" in extra_info and value < extra_info["min"]:
                    errors.append(_reason("value_smaller_than_min",
                                          f"Value {value} smaller than min of {extra_info['min']}", name,
                                          {"input_name": name, "input_config": info, "received_value": value}))
                    continue
                if "max" in extra_info and value > extra_info["max"]:
                    errors.append(_reason("value_bigger_than_max",
                                          f"Value {value} bigger than max of {extra_info['max']}", name,
                                          {"input_name": name, "input_config": info, "received_value": value}))
                    continue
            except TypeError as ex:
                errors.append(_reason("invalid_input_type", f"Failed to convert an input value to a {input_type} value",
                                      f"{name}, {value}, {ex}",
                                      {"input_name": name, "input_config": info, "received_value": value,
                                       "exception_message": str(ex)}))
                continue
            if isinstance(input_type, (list, tuple)):
                if value not in input_type:
                    input_config: Any = info
                    if len(input_type) > 20:
                        list_info = f"(list of length {len(input_type)})"
                        input_config = None
                    else:
                        list_info = str(list(input_type))
                    errors.append(_reason("value_not_in_list", "Value not in list", f"{name}: '{value}' not in {list_info}",
                                          {"input_name": name, "input_config": input_config, "received_value": value}))
                    continue

    if validate_function is not None and (validate_function_inputs or validate_has_kwargs):
        input_data_all, _, hidden_inputs = get_input_data(inputs, obj_class, unique_id)
        input_filtered = {name: values for name, values in input_data_all.items()
                          if name in validate_function_inputs or validate_has_kwargs}
        if "input_types" in validate_function_inputs:
            input_filtered["input_types"] = [received_types]
        results = await resolve_results(await map_node_over_list(prompt_id, unique_id, obj_class, input_filtered,
                                                                 validate_name, hidden_inputs=hidden_inputs))
        for name in input_filtered:
            for result in results:
                if result is not True and not isinstance(result, ExecutionBlocker):
                    details = name if result is False else f"{name} - {result}"
                    errors.append(_reason("custom_validation_failed", "Custom validation failed for node", details,
                                          {"input_name": name}))

    if errors or valid is not True:
        return False, errors, unique_id
    return True, [], unique_id


async def validate_prompt(prompt_id: str, prompt: dict, partial_execution_targets: list[str] | None
                          ) -> tuple[bool, Reason | None, list[str], dict[str, dict]]:
    """(valid, error, good output ids, node_errors), exactly as ComfyUI's `validate_prompt` answers."""
    if len(prompt) > args.max_prompt_nodes:
        return False, _reason("prompt_too_large", "Prompt has too many nodes",
                              f"The prompt has {len(prompt)} nodes; the limit is {args.max_prompt_nodes} "
                              "(--max-prompt-nodes).", {}), [], {}
    outputs: list[str] = []
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return False, _reason("invalid_prompt",
                                  "Cannot execute because a node is missing the class_type property.",
                                  f"Node ID '#{node_id}'", {}), [], {}
        class_type = node["class_type"]
        class_def = nodes.NODE_CLASS_MAPPINGS.get(class_type) if isinstance(class_type, str) else None
        if class_def is None:
            return False, _reason("invalid_prompt", f"Cannot execute because node {class_type} does not exist.",
                                  f"Node ID '#{node_id}'", {}), [], {}
        if not isinstance(node.get("inputs", {}), dict):
            return False, _reason("invalid_prompt", "Cannot execute because a node's inputs are not an object.",
                                  f"Node ID '#{node_id}'", {}), [], {}
        node.setdefault("inputs", {})
        if getattr(class_def, "OUTPUT_NODE", False) is True:
            if partial_execution_targets is None or node_id in partial_execution_targets:
                outputs.append(node_id)

    if not outputs:
        return False, _reason("prompt_no_outputs", "Prompt has no outputs", "", {}), [], {}

    validated: dict[str, Result] = {}
    raised: dict[str, _Raised] = {}
    ordered: set[str] = set()
    good_outputs: list[str] = []
    failures: list[tuple[str, list[Reason]]] = []
    node_errors: dict[str, dict] = {}

    for output_id in outputs:
        order, cycles = _upstream_order(prompt, output_id, ordered)
        for cycle in cycles:
            description = " -> ".join(f"#{node_id}" for node_id in [*cycle, cycle[0]])
            for node_id in cycle:
                validated[node_id] = (False, [_reason("dependency_cycle", "Dependency cycle detected", description,
                                                      {"cycle": cycle})], node_id)
        for node_id in order:
            if node_id in validated or node_id in raised:
                continue
            try:
                validated[node_id] = await _validate_node(prompt_id, prompt, node_id, validated, raised)
            except _Raised as failure:
                raised[node_id] = failure
            except Exception as ex:
                raised[node_id] = _Raised(ex)

        if output_id in raised and output_id not in validated:
            failure = raised[output_id]
            validated[output_id] = (False, [_reason(
                "exception_during_validation", "Exception when validating node", str(failure.exception),
                {"exception_type": full_type_name(type(failure.exception)), "traceback": failure.traceback_lines})],
                output_id)
        valid, reasons, _ = validated[output_id]
        if valid is True:
            good_outputs.append(output_id)
            continue
        logging.error("Failed to validate prompt for output %s:", output_id)
        if reasons:
            failures.append((output_id, reasons))
        upstream, _ = _upstream_order(prompt, output_id, set())
        for node_id in upstream:
            result = validated.get(node_id)
            if result is None or result[0] is True or not result[1]:
                continue
            entry = node_errors.setdefault(node_id, {"errors": result[1], "dependent_outputs": [],
                                                     "class_type": prompt[node_id]["class_type"]})
            entry["dependent_outputs"].append(output_id)
            logging.error("* %s %s: %s", prompt[node_id]["class_type"], node_id,
                          "; ".join(f"{reason['message']}: {reason['details']}" for reason in result[1]))
        logging.error("Output will be ignored")

    if not good_outputs:
        details = "\n".join(f"{reason['message']}: {reason['details']}" for _, reasons in failures for reason in reasons)
        return False, _reason("prompt_outputs_failed_validation", "Prompt outputs failed validation", details, {}), \
            [], node_errors
    return True, None, good_outputs, node_errors

