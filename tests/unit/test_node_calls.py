"""comfy_execution.node_calls with V3 nodes: hidden values kept apart from the inputs, each call on a locked class
clone, NodeOutput results (ui objects, blocking, expansion), and which optional hooks count; plus a prompt of V3
nodes through PromptExecutor."""

from __future__ import annotations

import asyncio
import copy

import pytest

import nodes
from comfy_api.latest import io, ui
from comfy_execution.graph import DynamicPrompt, ExecutionBlocker
from comfy_execution.node_calls import (
    fingerprint_function_name,
    get_input_data,
    get_output_from_returns,
    has_lazy_status,
    map_node_over_list,
    validate_function_name,
)
from execution import PromptExecutor
from tests.unit.test_executor import RecordingSink, run

CALLS: list[str] = []
FINGERPRINT = {"value": 0}  # what Fingerprinted's fingerprint_inputs answers, whatever its input


class Identity(io.ComfyNode):
    """Shows its value and the hidden values it got."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Identity", is_output_node=True,
                         inputs=[io.Int.Input("value"), io.Int.Input("spare", optional=True, lazy=True)],
                         outputs=[io.Int.Output()], hidden=[io.Hidden.unique_id])

    @classmethod
    def execute(cls, value, spare=None):
        CALLS.append(f"{cls.hidden.unique_id}:{value}:{spare}")
        return io.NodeOutput(value, ui={"seen": [cls.hidden.unique_id, cls.hidden.prompt is not None, spare]})


class Fingerprinted(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="V3Fingerprinted", inputs=[io.Int.Input("value")], outputs=[io.Int.Output()])

    @classmethod
    def fingerprint_inputs(cls, value):
        return FINGERPRINT["value"]

    @classmethod
    def execute(cls, value):
        CALLS.append(f"fingerprinted:{value}")
        return io.NodeOutput(value)


@pytest.fixture
def v3_nodes(monkeypatch):
    for node_class in (Identity, Fingerprinted):
        monkeypatch.setitem(nodes.NODE_CLASS_MAPPINGS, node_class.GET_SCHEMA().node_id, node_class)
    CALLS.clear()


def test_v3_hidden_values_are_kept_apart_from_the_inputs():
    prompt = {"5": {"class_type": "V3Identity", "inputs": {"value": 3}}}
    inputs, missing, hidden = get_input_data(prompt["5"]["inputs"], Identity, "5", None, DynamicPrompt(prompt),
                                             {"extra_pnginfo": {"w": 1}})

    assert inputs == {"value": [3]} and missing == {}
    assert hidden == {io.Hidden.unique_id: "5", io.Hidden.prompt: prompt, io.Hidden.extra_pnginfo: {"w": 1}}


def test_outside_a_run_a_v3_node_gets_an_empty_prompt():
    _, _, hidden = get_input_data({"value": 1}, Identity, "2")

    assert hidden[io.Hidden.prompt] == {} and hidden[io.Hidden.extra_pnginfo] is None


def test_each_call_sees_its_own_hidden_values_on_a_clone():
    CALLS.clear()
    results = asyncio.run(map_node_over_list("p", "9", Identity(), {"value": [1, 2]}, Identity.FUNCTION,
                                             hidden_inputs={io.Hidden.unique_id: "9"}))

    assert [result.result for result in results] == [(1,), (2,)]
    assert CALLS == ["9:1:None", "9:2:None"] and Identity.hidden is None


@pytest.mark.parametrize("value, expected_output, expected_ui", [
    (io.NodeOutput(1, ui=ui.PreviewText("x")), [[1]], {"text": ("x",)}),
    (io.NodeOutput(ui={"a": [1]}), [], {"a": [1]}),
])
def test_node_outputs_give_results_and_ui(value, expected_output, expected_ui):
    output, ui_result, has_subgraph = get_output_from_returns([value], Identity)

    assert (output, ui_result, has_subgraph) == (expected_output, expected_ui, False)


def test_block_execution_blocks_every_output_of_a_call_that_returned_values():
    output, _, _ = get_output_from_returns([io.NodeOutput(1, block_execution="why")], Identity)

    (blocked,) = output[0]
    assert isinstance(blocked, ExecutionBlocker) and blocked.message == "why"
    assert get_output_from_returns([io.NodeOutput(block_execution="why")], Identity)[0] == []


def test_an_expanding_node_output_is_a_subgraph_result():
    output, _, has_subgraph = get_output_from_returns([io.NodeOutput(["1", 0], expand={"1": {}})], Identity)

    assert has_subgraph and output == [({"1": {}}, (["1", 0],))]


def test_only_hooks_a_v3_node_defines_are_used():
    assert fingerprint_function_name(Fingerprinted) == "fingerprint_inputs"
    assert fingerprint_function_name(Identity) is None
    assert validate_function_name(Identity) is None
    assert not has_lazy_status(Identity, Identity())


def test_a_v3_prompt_runs_with_hidden_values_and_ui(v3_nodes):
    executor = PromptExecutor(RecordingSink())
    sink = run(executor, {"4": {"class_type": "V3Identity", "inputs": {"value": 8}}}, ["4"])

    assert executor.success
    assert sink.events("executed")[0][1]["output"] == {"seen": ["4", True, None]}


def test_a_lazy_input_of_a_v3_node_without_check_lazy_status_is_never_evaluated(v3_nodes):
    prompt = {"1": {"class_type": "V3Fingerprinted", "inputs": {"value": 5}},
              "2": {"class_type": "V3Identity", "inputs": {"value": 1, "spare": ["1", 0]}}}

    run(PromptExecutor(RecordingSink()), prompt, ["2"])

    assert CALLS == ["2:1:None"]


def test_fingerprint_inputs_decides_whether_a_v3_node_runs_again(v3_nodes):
    executor = PromptExecutor(RecordingSink())
    prompt = {"1": {"class_type": "V3Fingerprinted", "inputs": {"value": 11}},
              "2": {"class_type": "V3Identity", "inputs": {"value": ["1", 0]}}}

    FINGERPRINT["value"] = 1
    run(executor, copy.deepcopy(prompt), ["2"])  # (the value is kept on the node dict: a new prompt each time)
    run(executor, copy.deepcopy(prompt), ["2"])
    FINGERPRINT["value"] = 2
    run(executor, copy.deepcopy(prompt), ["2"])

    assert [call for call in CALLS if call.startswith("fingerprinted")] == ["fingerprinted:11", "fingerprinted:11"]
