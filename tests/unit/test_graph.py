"""The scheduler: order, output preference, lazy inputs, cycles, external blocks, depth without recursion."""

import asyncio

import pytest

from comfy_execution.graph import DependencyCycleError, DynamicPrompt, ExecutionList


class NoCache:
    def get(self, node_id):
        return None


def drain(prompt, outputs):
    """Node ids in the order the execution list hands them out."""
    execution_list = ExecutionList(DynamicPrompt(prompt), NoCache())
    for output in outputs:
        execution_list.add_node(output)
    order = []

    async def run():
        while not execution_list.is_empty():
            node_id, error, ex = await execution_list.stage_node_execution()
            if error is not None:
                return error, ex
            order.append(node_id)
            execution_list.complete_node_execution()
        return None, None

    error, ex = asyncio.run(run())
    return order, error, ex


def chain(length):
    prompt = {"0": {"class_type": "EngineInt", "inputs": {"value": 1}}}
    for index in range(1, length):
        prompt[str(index)] = {"class_type": "EngineAdd", "inputs": {"a": [str(index - 1), 0], "b": 1}}
    prompt["out"] = {"class_type": "EngineOutput", "inputs": {"value": [str(length - 1), 0]}}
    return prompt


def test_sources_run_before_the_nodes_that_read_them(engine_nodes_registered):
    order, error, _ = drain(chain(5), ["out"])
    assert error is None
    assert order == ["0", "1", "2", "3", "4", "out"]


def test_a_ten_thousand_node_chain_is_ordered_without_recursion(engine_nodes_registered):
    order, error, _ = drain(chain(10_000), ["out"])
    assert error is None
    assert order[0] == "0" and order[-1] == "out" and len(order) == 10_001


def test_nodes_not_upstream_of_an_output_are_not_scheduled(engine_nodes_registered):
    prompt = chain(3)
    prompt["stray"] = {"class_type": "EngineInt", "inputs": {"value": 5}}
    order, _, _ = drain(prompt, ["out"])
    assert "stray" not in order


def test_ready_output_nodes_are_picked_before_other_ready_nodes(engine_nodes_registered):
    prompt = {
        "a": {"class_type": "EngineInt", "inputs": {"value": 1}},
        "b": {"class_type": "EngineInt", "inputs": {"value": 2}},
        "slow": {"class_type": "EngineAdd", "inputs": {"a": ["b", 0], "b": 1}},
        "out1": {"class_type": "EngineOutput", "inputs": {"value": ["slow", 0]}},
        "out2": {"class_type": "EngineOutput", "inputs": {"value": ["a", 0]}},
    }
    order, _, _ = drain(prompt, ["out1", "out2"])
    # out2 becomes ready as soon as "a" ran, and is taken before the other branch goes on.
    assert order.index("out2") == order.index("a") + 1


def test_lazy_inputs_are_not_scheduled_up_front(engine_nodes_registered):
    prompt = {
        "a": {"class_type": "EngineInt", "inputs": {"value": 1}},
        "b": {"class_type": "EngineInt", "inputs": {"value": 2}},
        "switch": {"class_type": "EngineLazySwitch", "inputs": {"choose_a": True, "a": ["a", 0], "b": ["b", 0]}},
        "out": {"class_type": "EngineOutput", "inputs": {"value": ["switch", 0]}},
    }
    order, _, _ = drain(prompt, ["out"])
    assert order == ["switch", "out"]


def test_a_cycle_in_the_pending_nodes_is_reported_as_a_dependency_cycle(engine_nodes_registered):
    prompt = {
        "1": {"class_type": "EngineAdd", "inputs": {"a": ["2", 0], "b": 1}},
        "2": {"class_type": "EngineAdd", "inputs": {"a": ["1", 0], "b": 1}},
        "out": {"class_type": "EngineOutput", "inputs": {"value": ["1", 0]}},
    }
    order, error, ex = drain(prompt, ["out"])
    assert order == []
    assert isinstance(ex, DependencyCycleError)
    assert error["exception_message"] == "Dependency cycle detected"
    assert error["node_id"] in ("1", "2")


def test_an_external_block_holds_a_node_back_until_released(engine_nodes_registered):
    prompt = chain(2)
    execution_list = ExecutionList(DynamicPrompt(prompt), NoCache())
    execution_list.add_node("out")

    async def run():
        first, _, _ = await execution_list.stage_node_execution()
        unblock = execution_list.add_external_block(first)
        execution_list.unstage_node_execution()
        asyncio.get_running_loop().call_later(0.01, unblock)
        again, _, _ = await execution_list.stage_node_execution()
        return first, again

    first, again = asyncio.run(run())
    assert first == again == "0"


@pytest.mark.parametrize("width", [10_000])
def test_a_ten_thousand_node_fan_out_is_ordered(engine_nodes_registered, width):
    prompt = {"src": {"class_type": "EngineInt", "inputs": {"value": 1}}}
    for index in range(width):
        prompt[f"o{index}"] = {"class_type": "EngineOutput", "inputs": {"value": ["src", 0]}}
    order, error, _ = drain(prompt, [f"o{index}" for index in range(width)])
    assert error is None and order[0] == "src" and len(order) == width + 1
