"""Execution semantics seen from a client: node failures, lazy inputs, ExecutionBlocker, node expansion,
dynamic cycles, list mapping, async nodes and partial execution targets."""

from __future__ import annotations

import re

import pytest

from .graphs import fresh, link, node, quick_prompt

pytestmark = pytest.mark.asyncio

EXECUTION_ERROR_KEYS = {"prompt_id", "node_id", "node_type", "executed", "exception_message", "exception_type",
                        "traceback", "current_inputs", "current_outputs", "timestamp"}


async def test_failing_node_reports_execution_error_and_the_server_keeps_serving(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestInt", value=value),
        "2": node("KilnTestRaise", message="kiln test failure", value=link(1)),
        "3": node("KilnTestIntOutput", value=link(2)),
    }
    run = await client.run(prompt)

    errors = run.of_type("execution_error")
    assert len(errors) == 1
    error = errors[0]
    assert set(error) == EXECUTION_ERROR_KEYS
    assert error["prompt_id"] == run.prompt_id
    assert error["node_id"] == "2"
    assert error["node_type"] == "KilnTestRaise"
    assert error["executed"] == ["1"]
    assert error["exception_message"].rstrip("\n") == "kiln test failure"
    assert error["exception_type"] == "ValueError"
    assert isinstance(error["traceback"], list) and all(isinstance(line, str) for line in error["traceback"])
    assert any("raise ValueError(message)" in frame for frame in error["traceback"]), error["traceback"]
    assert error["current_inputs"] == {"message": ["kiln test failure"], "value": [value]}
    assert isinstance(error["current_outputs"], list)
    assert set(error["current_outputs"]) <= set(prompt) and "1" in error["current_outputs"], error["current_outputs"]
    assert isinstance(error["timestamp"], int)

    assert "execution_success" not in run.types()
    assert "3" not in run.executed_nodes()
    assert run.types()[-1] == "executing"
    status = run.history["status"]
    assert status["status_str"] == "error"
    assert status["completed"] is False
    assert [message[0] for message in status["messages"]] == ["execution_start", "execution_cached", "execution_error"]
    assert status["messages"][-1][1] == error
    assert run.outputs() == {}

    after = await client.run(quick_prompt())
    assert after.history["status"]["status_str"] == "success"


async def test_nodes_not_upstream_of_an_output_never_run(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestInt", value=value),
        "2": node("KilnTestIntOutput", value=link(1)),
        "3": node("KilnTestRaise", message="must not run", value=link(1)),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success"
    assert sorted(run.executed_nodes()) == ["1", "2"]


async def test_lazy_switch_never_evaluates_the_unneeded_branch(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestInt", value=value),
        "2": node("KilnTestRaise", message="the lazy branch ran"),
        "3": node("KilnTestLazySwitch", switch=True, on_true=link(1), on_false=link(2)),
        "4": node("KilnTestIntOutput", value=link(3)),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert "2" not in run.executed_nodes()
    assert run.outputs() == {"4": {"value": [value]}}


async def test_lazy_switch_evaluates_the_chosen_branch_only(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestRaise", message="the lazy branch ran"),
        "2": node("KilnTestInt", value=value),
        "3": node("KilnTestIntAdd", a=link(2), b=1),
        "4": node("KilnTestLazySwitch", switch=False, on_true=link(1), on_false=link(3)),
        "5": node("KilnTestIntOutput", value=link(4)),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert "1" not in run.executed_nodes()
    assert {"2", "3", "4", "5"} <= set(run.executed_nodes())
    assert run.outputs() == {"5": {"value": [value + 1]}}


async def test_silent_execution_blocker_skips_downstream_and_the_prompt_succeeds(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestInt", value=value),
        "2": node("KilnTestBlocker", value=link(1), block=True, message=""),
        "3": node("KilnTestIntOutput", value=link(2)),
        "4": node("KilnTestIntOutput", value=link(1)),
    }
    run = await client.run(prompt)
    assert run.of_type("execution_error") == []
    assert run.history["status"]["status_str"] == "success"
    assert run.types()[-2:] == ["execution_success", "executing"]
    assert run.outputs() == {"4": {"value": [value]}}
    assert [data["node"] for data in run.of_type("executed")] == ["4"]


async def test_execution_blocker_with_message_reports_execution_blocked_and_execution_continues(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestInt", value=value),
        "2": node("KilnTestBlocker", value=link(1), block=True, message="blocked on purpose"),
        "3": node("KilnTestIntOutput", value=link(2)),
        "4": node("KilnTestIntOutput", value=link(1)),
    }
    run = await client.run(prompt)
    errors = run.of_type("execution_error")
    assert len(errors) == 1
    error = errors[0]
    assert error["prompt_id"] == run.prompt_id
    assert error["node_id"] == "3"
    assert error["node_type"] == "KilnTestIntOutput"
    assert error["exception_message"] == "Execution Blocked: blocked on purpose"
    assert error["exception_type"] == "ExecutionBlocked"
    assert error["traceback"] == []
    assert error["current_inputs"] == []
    assert error["current_outputs"] == []
    assert isinstance(error["executed"], list)
    assert "execution_success" in run.types()
    assert run.history["status"]["status_str"] == "success"
    assert run.outputs() == {"4": {"value": [value]}}


async def test_for_loop_expansion_runs_the_generated_nodes_under_prefixed_ids(client):
    start = fresh()
    prompt = {
        "10": node("KilnTestForLoop", start=start, count=4, step=3),
        "11": node("KilnTestIntOutput", value=link(10, 1)),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert run.outputs() == {"11": {"value": [4 * start + 3 * (0 + 1 + 2 + 3)]}}
    generated = {f"10.0.0.{index}" for index in range(1, 6)}
    executed = set(run.executed_nodes())
    assert generated <= executed, executed
    assert executed <= generated | {"10", "11"}, executed
    for data in run.of_type("executing"):
        if data["node"] in generated:
            assert data["display_node"] == "10", data


async def test_output_node_inside_an_expansion_reports_under_its_generated_id(client):
    start = fresh()
    run = await client.run({"20": node("KilnTestForLoop", start=start, count=2, step=1, show=True),
                            "21": node("KilnTestIntOutput", value=link(20, 1))})
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    shown = {"value": [2 * start + 1]}
    assert run.outputs() == {"20.0.0.4": shown, "21": shown}
    assert run.history["meta"]["20.0.0.4"] == {
        "node_id": "20.0.0.4", "display_node": "20", "parent_node": "20", "real_node_id": "20"}
    assert run.history["meta"]["21"] == {"node_id": "21", "display_node": "21", "parent_node": None,
                                         "real_node_id": "21"}
    assert {"node": "20.0.0.4", "display_node": "20", "output": shown, "prompt_id": run.prompt_id} in run.of_type(
        "executed")


async def test_recursive_expansion_nests_generated_ids(client):
    total = fresh()
    prompt = {
        "5": node("KilnTestRecursiveSum", remaining=3, total=total),
        "6": node("KilnTestIntOutput", value=link(5)),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert run.outputs() == {"6": {"value": [total + 3 + 2 + 1]}}
    executed = set(run.executed_nodes())
    assert {"5.0.0.1", "5.0.0.2", "5.0.0.2.0.0.1", "5.0.0.2.0.0.2", "5.0.0.2.0.0.2.0.0.1"} <= executed, executed
    for data in run.of_type("executing"):
        if data["node"] is not None and data["node"].startswith("5."):
            assert re.fullmatch(r"5(\.0\.0\.\d+)+", data["node"]), data
            assert data["display_node"] == "5", data


async def test_dynamic_cycle_in_an_expansion_fails_with_dependency_cycle_detected(client):
    prompt = {
        "1": node("KilnTestCycleExpand", value=fresh()),
        "2": node("KilnTestIntOutput", value=link(1)),
    }
    run = await client.run(prompt)
    errors = run.of_type("execution_error")
    assert len(errors) == 1, run.types()
    error = errors[0]
    assert error["node_id"] == "1"
    assert error["node_type"] == "KilnTestCycleExpand"
    assert error["exception_message"] == "Dependency cycle detected"
    assert error["exception_type"] == "graph.DependencyCycleError"
    assert error["traceback"] == []
    assert error["current_inputs"] == []
    assert run.history["status"]["status_str"] == "error"
    assert run.history["status"]["completed"] is False
    after = await client.run(quick_prompt())
    assert after.history["status"]["status_str"] == "success"


async def test_output_list_maps_the_downstream_nodes_over_each_element(client):
    start = fresh()
    prompt = {
        "1": node("KilnTestIntRange", start=start, count=4),
        "2": node("KilnTestIntAdd", a=link(1), b=100),
        "3": node("KilnTestIntOutput", value=link(2)),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert run.outputs() == {"3": {"value": [start + 100 + index for index in range(4)]}}


async def test_input_is_list_node_receives_the_whole_list_in_one_call(client):
    start = fresh()
    prompt = {
        "1": node("KilnTestIntRange", start=start, count=5),
        "2": node("KilnTestIntListSum", values=link(1)),
        "3": node("KilnTestIntOutput", value=link(2)),
    }
    run = await client.run(prompt)
    assert run.outputs() == {"3": {"value": [sum(range(start, start + 5))]}}


async def test_a_shorter_list_input_repeats_its_last_element(client):
    start = fresh()
    prompt = {
        "1": node("KilnTestIntRange", start=start, count=3),
        "2": node("KilnTestIntRange", start=1000, count=2),
        "3": node("KilnTestIntAdd", a=link(1), b=link(2)),
        "4": node("KilnTestIntOutput", value=link(3)),
    }
    run = await client.run(prompt)
    assert run.outputs() == {"4": {"value": [start + 1000, start + 1 + 1001, start + 2 + 1001]}}


async def test_async_nodes_run_concurrently(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestAsyncSleep", value=value, seconds=1.0),
        "2": node("KilnTestAsyncSleep", value=value + 1, seconds=1.0),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    outputs = run.outputs()
    assert outputs["1"]["value"] == [value] and outputs["2"]["value"] == [value + 1]
    starts = [outputs[node_id]["start"][0] for node_id in ("1", "2")]
    ends = [outputs[node_id]["end"][0] for node_id in ("1", "2")]
    assert max(starts) < min(ends), f"the two sleeps did not overlap: starts {starts}, ends {ends}"


async def test_partial_execution_targets_run_only_the_targeted_outputs(client):
    value = fresh()
    prompt = {
        "1": node("KilnTestInt", value=value),
        "2": node("KilnTestIntOutput", value=link(1)),
        "3": node("KilnTestRaise", message="not a target"),
        "4": node("KilnTestIntOutput", value=link(3)),
        "5": node("KilnTestIntAdd", a=link(1), b=1),
        "6": node("KilnTestIntOutput", value=link(5)),
    }
    run = await client.run(prompt, partial_execution_targets=["6"])
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert run.history["prompt"][4] == ["6"]
    assert run.outputs() == {"6": {"value": [value + 1]}}
    assert sorted(run.executed_nodes()) == ["1", "5", "6"]


async def test_hidden_inputs_receive_the_node_id_the_prompt_and_extra_pnginfo(client):
    workflow = {"workflow": {"kiln": fresh()}}
    prompt = {"7": node("KilnTestHiddenInputs", value=fresh()), "8": node("KilnTestInt", value=1)}
    run = await client.run(prompt, extra_data={"extra_pnginfo": workflow})
    assert run.outputs() == {"7": {"unique_id": ["7"], "prompt_nodes": [["7", "8"]], "extra_pnginfo": [workflow]}}
    extra_data = run.history["prompt"][3]
    assert extra_data["client_id"] == client.client_id
    assert extra_data["extra_pnginfo"] == workflow


async def test_node_meta_and_unknown_keys_are_ignored_and_value_wrappers_unwrap(client):
    value = fresh()
    prompt = {
        "1": {"class_type": "KilnTestInt", "inputs": {"value": value}, "_meta": {"title": "My int"}, "kiln": True},
        "2": node("KilnTestIntOutput", value=link(1)),
        "3": node("KilnTestIntOutput", value={"__value__": value + 1}),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert run.outputs() == {"2": {"value": [value]}, "3": {"value": [value + 1]}}
