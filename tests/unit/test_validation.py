"""Prompt validation: ComfyUI's error types and shapes, with no recursion limit."""

import asyncio

from comfy_execution.validation import MAX_STRING_INPUT_LENGTH, validate_prompt


def validate(prompt, targets=None):
    return asyncio.run(validate_prompt("p", prompt, targets))


def out(value):
    return {"class_type": "EngineOutput", "inputs": {"value": value}}


def test_a_valid_prompt_lists_its_output_nodes(engine_nodes_registered):
    valid, error, outputs, node_errors = validate({"1": {"class_type": "EngineInt", "inputs": {"value": 1}},
                                                   "2": out(["1", 0])})
    assert (valid, error, outputs, node_errors) == (True, None, ["2"], {})


def test_a_node_without_class_type_is_an_invalid_prompt(engine_nodes_registered):
    valid, error, _, node_errors = validate({"1": {"inputs": {}}})
    assert not valid and node_errors == {}
    assert error == {"type": "invalid_prompt",
                     "message": "Cannot execute because a node is missing the class_type property.",
                     "details": "Node ID '#1'", "extra_info": {}}


def test_an_unknown_class_is_an_invalid_prompt(engine_nodes_registered):
    _, error, _, _ = validate({"1": {"class_type": "Nope", "inputs": {}}})
    assert error["type"] == "invalid_prompt"
    assert error["message"] == "Cannot execute because node Nope does not exist."


def test_a_prompt_without_output_nodes_has_no_outputs(engine_nodes_registered):
    _, error, _, _ = validate({"1": {"class_type": "EngineInt", "inputs": {"value": 1}}})
    assert error == {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "",
                     "extra_info": {}}


def test_value_range_errors_name_the_input_and_keep_the_node_error_shape(engine_nodes_registered):
    valid, error, _, node_errors = validate({"1": {"class_type": "EngineInt", "inputs": {"value": 2**40}},
                                             "2": out(["1", 0])})
    assert not valid
    assert error == {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                     "details": "", "extra_info": {}}
    assert node_errors == {"1": {"errors": [{
        "type": "value_bigger_than_max", "message": f"Value {2**40} bigger than max of {2**31}", "details": "value",
        "extra_info": {"input_name": "value", "input_config": ["INT", {"default": 0, "min": -(2**31), "max": 2**31}],
                       "received_value": 2**40}}], "dependent_outputs": ["2"], "class_type": "EngineInt"}}


def test_each_input_error_type_is_reported(engine_nodes_registered):
    cases = {
        "required_input_missing": {"class_type": "EngineAdd", "inputs": {"b": 1}},
        "bad_linked_input": {"class_type": "EngineAdd", "inputs": {"a": ["1", 0, 5], "b": 1}},
        "return_type_mismatch": {"class_type": "EngineAdd", "inputs": {"a": ["t", 0], "b": 1}},
        "invalid_input_type": {"class_type": "EngineAdd", "inputs": {"a": ["1", 0], "b": "seven"}},
        "value_not_in_list": {"class_type": "EngineChoice", "inputs": {"pick": "z", "value": ["1", 0]}},
        "custom_validation_failed": {"class_type": "EngineValidated", "inputs": {"value": 3}},
    }
    for expected_type, node in cases.items():
        prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 1}},
                  "t": {"class_type": "EngineText", "inputs": {"text": "x"}},
                  "n": node, "o": out(["n", 0])}
        valid, _, _, node_errors = validate(prompt)
        assert not valid, expected_type
        assert [e["type"] for e in node_errors["n"]["errors"]] == [expected_type]
    _, _, _, node_errors = validate({"n": cases["custom_validation_failed"], "o": out(["n", 0])})
    assert node_errors["n"]["errors"][0]["details"] == "value - value must be even"


def test_constants_are_converted_to_the_declared_type(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": "5"}}, "2": out(["1", 0])}
    assert validate(prompt)[0]
    assert prompt["1"]["inputs"]["value"] == 5


def test_a_link_to_a_missing_node_fails_inside_the_linking_node(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineAdd", "inputs": {"a": ["removeme", 0], "b": 1}}, "2": out(["1", 0])}
    _, _, _, node_errors = validate(prompt)
    reason = node_errors["1"]["errors"][0]
    assert reason["type"] == "exception_during_inner_validation"
    assert reason["details"] == "'removeme'"
    assert reason["extra_info"]["linked_node"] == ["1", 0]


def test_a_link_with_a_bad_slot_is_an_error(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 1}},
              "2": {"class_type": "EngineAdd", "inputs": {"a": ["1", 7], "b": 1}}, "3": out(["2", 0])}
    _, _, _, node_errors = validate(prompt)
    assert node_errors["2"]["errors"][0]["type"] == "exception_during_inner_validation"


def test_an_output_node_that_raises_is_an_exception_during_validation(engine_nodes_registered):
    _, error, _, node_errors = validate({"2": out(["gone", 0])})
    assert node_errors["2"]["errors"][0]["type"] == "exception_during_validation"
    assert error["details"] == "Exception when validating node: 'gone'"


def test_a_static_cycle_is_reported_not_overflowed(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineAdd", "inputs": {"a": ["2", 0], "b": 1}},
              "2": {"class_type": "EngineAdd", "inputs": {"a": ["1", 0], "b": 1}}, "3": out(["1", 0])}
    valid, error, _, node_errors = validate(prompt)
    assert not valid and error["type"] == "prompt_outputs_failed_validation"
    assert {reason["type"] for node in node_errors.values() for reason in node["errors"]} == {"dependency_cycle"}


def test_a_string_constant_over_the_limit_is_refused(engine_nodes_registered):
    prompt = {"t": {"class_type": "EngineText", "inputs": {"text": "x" * (MAX_STRING_INPUT_LENGTH + 1)}},
              "1": {"class_type": "EngineAdd", "inputs": {"a": ["t", 0], "b": 1}}, "2": out(["1", 0])}
    _, _, _, node_errors = validate(prompt)
    assert node_errors["t"]["errors"][0]["type"] == "value_too_long"


def test_failing_outputs_are_dropped_and_valid_ones_kept(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 1}}, "good": out(["1", 0]),
              "bad": out(["missing", 0])}
    valid, error, outputs, node_errors = validate(prompt)
    assert valid and error is None and outputs == ["good"]
    assert list(node_errors) == ["bad"]


def test_partial_execution_targets_restrict_the_outputs(engine_nodes_registered):
    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 1}}, "a": out(["1", 0]), "b": out(["1", 0])}
    assert validate(prompt, ["b"])[2] == ["b"]
    assert validate(prompt, [])[1]["type"] == "prompt_no_outputs"


def test_a_ten_thousand_node_chain_validates(engine_nodes_registered):
    prompt = {"0": {"class_type": "EngineInt", "inputs": {"value": 1}}}
    for index in range(1, 10_000):
        prompt[str(index)] = {"class_type": "EngineAdd", "inputs": {"a": [str(index - 1), 0], "b": 1}}
    prompt["out"] = out(["9999", 0])
    assert validate(prompt)[0] is True
