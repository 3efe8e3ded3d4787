"""Output caching across prompts: a re-queued prompt is served from cache, a changed input re-runs only its
downstream, and IS_CHANGED decides whether a node with unchanged inputs runs again."""

from __future__ import annotations

import pytest

from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio


async def test_requeued_identical_prompt_is_fully_cached_and_outputs_re_emit_executed(client):
    prompt = {
        "1": node("KilnTestInt", value=fresh()),
        "2": node("KilnTestIntAdd", a=link(1), b=1),
        "3": node("KilnTestCountingOutput", value=link(2)),
    }
    first = await client.run(prompt)
    assert sorted(first.executed_nodes()) == ["1", "2", "3"]
    second = await client.run(prompt)

    assert second.prompt_id != first.prompt_id
    cached = second.of_type("execution_cached")
    assert len(cached) == 1 and sorted(cached[0]["nodes"]) == ["1", "2", "3"]
    assert second.executed_nodes() == []
    assert second.of_type("executed") == [
        {"node": "3", "display_node": "3", "output": first.outputs()["3"], "prompt_id": second.prompt_id}]
    assert second.types()[-2:] == ["execution_success", "executing"]
    assert second.history["status"]["status_str"] == "success"
    assert second.outputs() == first.outputs()


async def test_changing_one_input_re_runs_only_its_downstream(client):
    def build(second_value: int) -> dict:
        return {
            "1": node("KilnTestInt", value=first_value),
            "2": node("KilnTestInt", value=second_value),
            "3": node("KilnTestIntAdd", a=link(1), b=link(2)),
            "4": node("KilnTestCountingOutput", value=link(3)),
            "5": node("KilnTestCountingOutput", value=link(1)),
        }

    first_value, old_value, new_value = fresh(), fresh(), fresh()
    first = await client.run(build(old_value))
    second = await client.run(build(new_value))

    assert sorted(second.of_type("execution_cached")[0]["nodes"]) == ["1", "5"]
    assert sorted(second.executed_nodes()) == ["2", "3", "4"]
    assert second.outputs()["5"] == first.outputs()["5"]
    assert second.outputs()["4"]["value"] == [first_value + new_value]
    assert second.outputs()["4"]["executions"][0] > first.outputs()["4"]["executions"][0]
    executed_nodes = sorted(data["node"] for data in second.of_type("executed"))
    assert executed_nodes == ["4", "5"]


async def test_is_changed_nan_re_runs_the_node_every_time(client):
    prompt = {"1": node("KilnTestIsChanged", value=fresh(), mode="nan", path="")}
    first = await client.run(prompt)
    second = await client.run(prompt)
    assert second.executed_nodes() == ["1"]
    assert "1" not in second.of_type("execution_cached")[0]["nodes"]
    assert second.outputs()["1"]["executions"][0] > first.outputs()["1"]["executions"][0]


async def test_is_changed_with_a_stable_value_keeps_the_cache_until_the_value_changes(client, tmp_path):
    stamp = tmp_path / "stamp.txt"
    stamp.write_text("first", encoding="utf-8")
    prompt = {"1": node("KilnTestIsChanged", value=fresh(), mode="file", path=str(stamp))}

    first = await client.run(prompt)
    second = await client.run(prompt)
    assert second.executed_nodes() == []
    assert second.of_type("execution_cached")[0]["nodes"] == ["1"]
    assert second.outputs() == first.outputs()

    stamp.write_text("second", encoding="utf-8")
    third = await client.run(prompt)
    assert third.executed_nodes() == ["1"]
    assert third.outputs()["1"]["executions"][0] > first.outputs()["1"]["executions"][0]
