"""POST /prompt validation: every error type of the protocol reference §3.2–3.3, with the exact JSON answered."""

from __future__ import annotations

import pytest

from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio

FAILED = {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "extra_info": {}}


async def _rejected(client, prompt, **body) -> dict:
    result = await client.submit(prompt, **body)
    assert result.status == 400, f"expected 400, got {result.status}: {result.body[:2000]!r}"
    answer = result.json()
    assert set(answer) == {"error", "node_errors"}, answer
    assert set(answer["error"]) == {"type", "message", "details", "extra_info"}, answer
    return answer


async def _input_config(client, class_type: str, input_name: str) -> list:
    """The `[type, options]` of a required input as /object_info shows it (validation echoes it back)."""
    info = await client.get_json(f"/object_info/{class_type}")
    return info[class_type]["input"]["required"][input_name]


async def test_missing_prompt_is_no_prompt(client):
    result = await client.post_json("/prompt", {"client_id": client.client_id})
    assert result.status == 400
    assert result.json() == {
        "error": {"type": "no_prompt", "message": "No prompt provided", "details": "No prompt provided",
                  "extra_info": {}},
        "node_errors": {},
    }


async def test_node_without_class_type_is_invalid_prompt(client):
    answer = await _rejected(client, {"1": {"inputs": {"value": 1}}, "2": node("KilnTestIntOutput", value=link(1))})
    assert answer == {
        "error": {"type": "invalid_prompt",
                  "message": "Cannot execute because a node is missing the class_type property.",
                  "details": "Node ID '#1'", "extra_info": {}},
        "node_errors": {},
    }


async def test_unknown_class_type_is_invalid_prompt(client):
    answer = await _rejected(client, {"7": node("KilnTestNoSuchNode", value=1)})
    assert answer == {
        "error": {"type": "invalid_prompt", "message": "Cannot execute because node KilnTestNoSuchNode does not exist.",
                  "details": "Node ID '#7'", "extra_info": {}},
        "node_errors": {},
    }


async def test_prompt_without_output_nodes_is_prompt_no_outputs(client):
    answer = await _rejected(client, {"1": node("KilnTestInt", value=1), "2": node("KilnTestIntAdd", a=link(1), b=2)})
    assert answer == {
        "error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}},
        "node_errors": {},
    }


async def test_empty_partial_execution_targets_leave_no_outputs(client):
    prompt = {"1": node("KilnTestInt", value=1), "2": node("KilnTestIntOutput", value=link(1))}
    answer = await _rejected(client, prompt, partial_execution_targets=[])
    assert answer["error"]["type"] == "prompt_no_outputs"


async def test_required_input_missing(client):
    answer = await _rejected(client, {"1": node("KilnTestIntOutput")})
    reason = {"type": "required_input_missing", "message": "Required input is missing", "details": "value",
              "extra_info": {"input_name": "value"}}
    assert answer == {
        "error": {**FAILED, "details": "Required input is missing: value"},
        "node_errors": {"1": {"errors": [reason], "dependent_outputs": ["1"], "class_type": "KilnTestIntOutput"}},
    }


async def test_every_failing_output_is_listed_in_the_details(client):
    answer = await _rejected(client, {"1": node("KilnTestIntOutput"), "2": node("KilnTestIntOutput")})
    assert answer["error"] == {**FAILED, "details": "Required input is missing: value\nRequired input is missing: value"}
    assert set(answer["node_errors"]) == {"1", "2"}


async def test_bad_linked_input(client):
    config = await _input_config(client, "KilnTestIntOutput", "value")
    answer = await _rejected(client, {"1": node("KilnTestInt", value=1),
                                      "2": node("KilnTestIntOutput", value=["1", 0, 0])})
    message = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
    reason = {"type": "bad_linked_input", "message": message, "details": "value",
              "extra_info": {"input_name": "value", "input_config": config, "received_value": ["1", 0, 0]}}
    assert answer == {
        "error": {**FAILED, "details": f"{message}: value"},
        "node_errors": {"2": {"errors": [reason], "dependent_outputs": ["2"], "class_type": "KilnTestIntOutput"}},
    }


async def test_return_type_mismatch(client):
    config = await _input_config(client, "KilnTestIntOutput", "value")
    answer = await _rejected(client, {"1": node("KilnTestString", value="text"),
                                      "2": node("KilnTestIntOutput", value=link(1))})
    details = "value, received_type(STRING) mismatch input_type(INT)"
    reason = {"type": "return_type_mismatch", "message": "Return type mismatch between linked nodes",
              "details": details,
              "extra_info": {"input_name": "value", "input_config": config, "received_type": "STRING",
                             "linked_node": ["1", 0]}}
    assert answer == {
        "error": {**FAILED, "details": f"Return type mismatch between linked nodes: {details}"},
        "node_errors": {"2": {"errors": [reason], "dependent_outputs": ["2"], "class_type": "KilnTestIntOutput"}},
    }


async def test_invalid_input_type(client):
    answer = await _rejected(client, {"1": node("KilnTestIntOutput", value="abc")})
    errors = answer["node_errors"]["1"]["errors"]
    assert len(errors) == 1
    reason = errors[0]
    assert reason["type"] == "invalid_input_type"
    assert reason["message"] == "Failed to convert an input value to a INT value"
    assert reason["details"] == "value, abc, invalid literal for int() with base 10: 'abc'"
    assert reason["extra_info"]["input_name"] == "value"
    assert reason["extra_info"]["received_value"] == "abc"
    assert answer["node_errors"]["1"]["dependent_outputs"] == ["1"]
    assert answer["error"] == {**FAILED, "details": f"{reason['message']}: {reason['details']}"}


async def test_int_input_converts_a_float_by_truncation(client):
    run = await client.run({"1": node("KilnTestIntOutput", value=5.7)})
    assert run.outputs() == {"1": {"value": [5]}}


async def test_value_smaller_than_min_is_reported_on_the_upstream_node(client):
    config = await _input_config(client, "KilnTestBounded", "value")
    answer = await _rejected(client, {"1": node("KilnTestBounded", value=-1),
                                      "2": node("KilnTestIntOutput", value=link(1))})
    reason = {"type": "value_smaller_than_min", "message": "Value -1 smaller than min of 0", "details": "value",
              "extra_info": {"input_name": "value", "input_config": config, "received_value": -1}}
    # The output node fails only through its input, so it has no reasons of its own: empty top-level details.
    assert answer == {
        "error": {**FAILED, "details": ""},
        "node_errors": {"1": {"errors": [reason], "dependent_outputs": ["2"], "class_type": "KilnTestBounded"}},
    }


async def test_value_bigger_than_max(client):
    config = await _input_config(client, "KilnTestBounded", "value")
    answer = await _rejected(client, {"1": node("KilnTestBounded", value=101),
                                      "2": node("KilnTestIntOutput", value=link(1))})
    reason = {"type": "value_bigger_than_max", "message": "Value 101 bigger than max of 100", "details": "value",
              "extra_info": {"input_name": "value", "input_config": config, "received_value": 101}}
    assert answer["node_errors"] == {
        "1": {"errors": [reason], "dependent_outputs": ["2"], "class_type": "KilnTestBounded"}}


async def test_value_not_in_list(client):
    config = await _input_config(client, "KilnTestCombo", "choice")
    answer = await _rejected(client, {"1": node("KilnTestCombo", choice="purple"),
                                      "2": node("KilnTestStringOutput", text=link(1))})
    reason = {"type": "value_not_in_list", "message": "Value not in list",
              "details": "choice: 'purple' not in ['red', 'green', 'blue']",
              "extra_info": {"input_name": "choice", "input_config": config, "received_value": "purple"}}
    assert answer == {
        "error": {**FAILED, "details": ""},
        "node_errors": {"1": {"errors": [reason], "dependent_outputs": ["2"], "class_type": "KilnTestCombo"}},
    }


async def test_value_not_in_a_long_list_names_its_length(client):
    answer = await _rejected(client, {"1": node("KilnTestBigCombo", choice="nope"),
                                      "2": node("KilnTestStringOutput", text=link(1))})
    reason = {"type": "value_not_in_list", "message": "Value not in list",
              "details": "choice: 'nope' not in (list of length 25)",
              "extra_info": {"input_name": "choice", "input_config": None, "received_value": "nope"}}
    assert answer["node_errors"] == {
        "1": {"errors": [reason], "dependent_outputs": ["2"], "class_type": "KilnTestBigCombo"}}


async def test_custom_validation_failed(client):
    answer = await _rejected(client, {"1": node("KilnTestValidated", value=3)})
    reason = {"type": "custom_validation_failed", "message": "Custom validation failed for node",
              "details": "value - 3 is odd", "extra_info": {"input_name": "value"}}
    assert answer == {
        "error": {**FAILED, "details": "Custom validation failed for node: value - 3 is odd"},
        "node_errors": {"1": {"errors": [reason], "dependent_outputs": ["1"], "class_type": "KilnTestValidated"}},
    }


async def test_validate_inputs_arguments_skip_the_min_max_checks(client):
    run = await client.run({"1": node("KilnTestValidated", value=1000)})
    assert run.history["status"]["status_str"] == "success"
    assert run.outputs() == {"1": {"value": [1000]}}


async def test_exception_during_validation(client):
    answer = await _rejected(client, {"1": node("KilnTestValidated", value=-2)})
    assert answer["error"] == {**FAILED, "details": "Exception when validating node: validator exploded"}
    reasons = answer["node_errors"]["1"]["errors"]
    assert len(reasons) == 1
    assert reasons[0]["type"] == "exception_during_validation"
    assert reasons[0]["message"] == "Exception when validating node"
    assert reasons[0]["details"] == "validator exploded"
    assert reasons[0]["extra_info"]["exception_type"] == "RuntimeError"
    assert isinstance(reasons[0]["extra_info"]["traceback"], list)


async def test_upstream_link_to_a_missing_node_is_exception_during_inner_validation(client):
    config = await _input_config(client, "KilnTestIntOutput", "value")
    answer = await _rejected(client, {"1": node("KilnTestIntAdd", a=link(99), b=1),
                                      "2": node("KilnTestIntOutput", value=link(1))})
    assert answer["error"] == {**FAILED, "details": ""}
    assert set(answer["node_errors"]) == {"1"}, answer
    assert answer["node_errors"]["1"]["dependent_outputs"] == ["2"]
    assert answer["node_errors"]["1"]["class_type"] == "KilnTestIntAdd"
    reasons = answer["node_errors"]["1"]["errors"]
    assert len(reasons) == 1
    reason = reasons[0]
    assert reason["type"] == "exception_during_inner_validation"
    assert reason["message"] == "Exception when validating inner node"
    assert reason["details"] == "'99'"
    extra_info = reason["extra_info"]
    assert {"input_name", "input_config", "exception_message", "exception_type", "traceback",
            "linked_node"} <= set(extra_info)
    assert extra_info["input_name"] == "value"
    assert extra_info["input_config"] == config
    assert extra_info["exception_message"] == "'99'"
    assert extra_info["exception_type"] == "KeyError"
    assert extra_info["linked_node"] == ["1", 0]


async def test_output_node_link_to_a_missing_node_is_exception_during_validation(client):
    answer = await _rejected(client, {"1": node("KilnTestIntOutput", value=link(99))})
    assert answer["error"] == {**FAILED, "details": "Exception when validating node: '99'"}
    reasons = answer["node_errors"]["1"]["errors"]
    assert [reason["type"] for reason in reasons] == ["exception_during_validation"]
    assert reasons[0]["details"] == "'99'"
    assert reasons[0]["extra_info"]["exception_type"] == "KeyError"


async def test_failing_outputs_are_dropped_and_the_valid_ones_run(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestInt", value=value),
        "2": node("KilnTestIntOutput", value=link(1)),
        "3": node("KilnTestBounded", value=-5),
        "4": node("KilnTestIntOutput", value=link(3)),
    }
    run = await client.run(prompt)
    assert set(run.node_errors) == {"3"}
    assert run.node_errors["3"]["dependent_outputs"] == ["4"]
    assert run.node_errors["3"]["class_type"] == "KilnTestBounded"
    assert [reason["type"] for reason in run.node_errors["3"]["errors"]] == ["value_smaller_than_min"]
    assert run.history["status"]["status_str"] == "success"
    assert run.history["prompt"][4] == ["2"]
    assert run.outputs() == {"2": {"value": [value]}}
    assert "3" not in run.executed_nodes() and "4" not in run.executed_nodes()
