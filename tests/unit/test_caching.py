"""Input signatures and cache policies."""

import asyncio

from comfy_execution.caching import CacheSet, CacheType, NodeSignatures
from comfy_execution.graph import DynamicPrompt


async def _not_changed(node_id):
    return False


def signatures(prompt, is_changed=_not_changed):
    signed = NodeSignatures(DynamicPrompt(prompt), is_changed)
    asyncio.run(signed.add_keys(list(prompt)))
    return signed


def test_identical_subgraphs_with_different_ids_share_a_signature(engine_nodes_registered):
    signed = signatures({
        "1": {"class_type": "EngineInt", "inputs": {"value": 3}},
        "2": {"class_type": "EngineAdd", "inputs": {"a": ["1", 0], "b": 1}},
        "10": {"class_type": "EngineInt", "inputs": {"value": 3}},
        "20": {"class_type": "EngineAdd", "inputs": {"a": ["10", 0], "b": 1}},
    })
    assert signed.get("2") == signed.get("20")


def test_a_changed_constant_changes_every_downstream_signature(engine_nodes_registered):
    base = {"1": {"class_type": "EngineInt", "inputs": {"value": 3}},
            "2": {"class_type": "EngineAdd", "inputs": {"a": ["1", 0], "b": 1}},
            "3": {"class_type": "EngineInt", "inputs": {"value": 9}}}
    changed = {**base, "1": {"class_type": "EngineInt", "inputs": {"value": 4}}}
    before, after = signatures(base), signatures(changed)
    assert before.get("2") != after.get("2")
    assert before.get("3") == after.get("3")


def test_a_nan_is_changed_value_never_matches(engine_nodes_registered):
    async def always_changed(node_id):
        return float("nan")

    prompt = {"1": {"class_type": "EngineInt", "inputs": {"value": 3}}}
    assert signatures(prompt, always_changed).get("1") != signatures(prompt, always_changed).get("1")


def test_signatures_of_a_ten_thousand_node_chain_are_computed_without_recursion(engine_nodes_registered):
    prompt = {"0": {"class_type": "EngineInt", "inputs": {"value": 1}}}
    for index in range(1, 10_000):
        prompt[str(index)] = {"class_type": "EngineAdd", "inputs": {"a": [str(index - 1), 0], "b": 1}}
    signed = signatures(prompt)
    assert len({signed.get(node_id) for node_id in prompt}) == 10_000


def _run_prompt(caches, prompt):
    asyncio.run(caches.set_prompt(DynamicPrompt(prompt), prompt.keys(), _not_changed))
    for node_id in prompt:
        caches.outputs.set(node_id, [[node_id]])
    caches.enforce_limits()


def _int_prompt(value):
    return {"n": {"class_type": "EngineInt", "inputs": {"value": value}}}


def test_classic_cache_keeps_only_what_the_new_prompt_can_reuse(engine_nodes_registered):
    caches = CacheSet(CacheType.CLASSIC)
    _run_prompt(caches, _int_prompt(1))
    _run_prompt(caches, _int_prompt(2))
    assert len(caches.outputs) == 1


def test_lru_cache_keeps_results_across_prompts_up_to_its_size(engine_nodes_registered):
    caches = CacheSet(CacheType.LRU, 2)
    for value in range(4):
        _run_prompt(caches, _int_prompt(value))
    assert len(caches.outputs) == 2
    asyncio.run(caches.set_prompt(DynamicPrompt(_int_prompt(3)), ["n"], _not_changed))
    assert caches.outputs.get("n") == [["n"]]


def test_none_cache_reuses_nothing_across_prompts(engine_nodes_registered):
    caches = CacheSet(CacheType.NONE)
    _run_prompt(caches, _int_prompt(1))
    asyncio.run(caches.set_prompt(DynamicPrompt(_int_prompt(1)), ["n"], _not_changed))
    assert caches.outputs.get("n") is None


def test_ram_pressure_cache_evicts_old_results_when_free_ram_is_short(engine_nodes_registered):
    free = {"bytes": 10 * 1024**3}
    caches = CacheSet(CacheType.RAM_PRESSURE, 4.0, free_ram=lambda: free["bytes"])
    _run_prompt(caches, _int_prompt(1))
    _run_prompt(caches, _int_prompt(2))
    assert len(caches.outputs) == 2
    free["bytes"] = 1 * 1024**3
    caches.enforce_limits()
    assert len(caches.outputs) == 1  # the current prompt's result is never evicted
