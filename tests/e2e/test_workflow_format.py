"""UI-format workflows on the server: POST /prompt takes one in place of `prompt`, POST /api/workflow/convert answers
its API prompt, bad graphs are 400s naming the place; and two behaviours of ComfyUI's own execution tests
(history paging past the end, a lazy `*` node with an async check fed constants)."""

import copy

import pytest

from .graphs import link, node

pytestmark = pytest.mark.asyncio

UI_WORKFLOW = {
    "last_node_id": 12, "last_link_id": 3, "version": 0.4, "groups": [], "config": {}, "extra": {},
    "nodes": [
        {"id": 10, "type": "KilnTestInt", "mode": 0, "widgets_values": [5],
         "outputs": [{"name": "INT", "type": "INT", "links": [1]}]},
        {"id": 11, "type": "KilnTestIntAdd", "mode": 0, "title": "Add them", "widgets_values": [0, 7],
         "inputs": [{"name": "a", "type": "INT", "link": 1, "widget": {"name": "a"}},
                    {"name": "b", "type": "INT", "link": 3, "widget": {"name": "b"}}],
         "outputs": [{"name": "INT", "type": "INT", "links": [2]}]},
        {"id": 12, "type": "KilnTestIntOutput", "mode": 0, "widgets_values": [0],
         "inputs": [{"name": "value", "type": "INT", "link": 2, "widget": {"name": "value"}}]},
        {"id": 13, "type": "PrimitiveNode", "mode": 0, "widgets_values": [30, "fixed"],
         "outputs": [{"name": "INT", "type": "INT", "links": [3], "widget": {"name": "b"}}]},
        {"id": 14, "type": "Note", "mode": 0, "widgets_values": ["adds two numbers"]},
        {"id": 15, "type": "KilnTestIntOutput", "mode": 2, "widgets_values": [1]},
    ],
    "links": [[1, 10, 0, 11, 0, "INT"], [2, 11, 0, 12, 0, "INT"], [3, 13, 0, 11, 1, "INT"]],
}
API_PROMPT = {
    "10": {"inputs": {"value": 5}, "class_type": "KilnTestInt", "_meta": {"title": "Kiln Test Int"}},
    "11": {"inputs": {"a": ["10", 0], "b": 30}, "class_type": "KilnTestIntAdd", "_meta": {"title": "Add them"}},
    "12": {"inputs": {"value": ["11", 0]}, "class_type": "KilnTestIntOutput",
           "_meta": {"title": "Kiln Test IntOutput"}},
}


async def test_a_ui_workflow_runs_and_history_holds_the_api_prompt(client):
    result = await client.post_json("/prompt", {"workflow": UI_WORKFLOW, "client_id": client.client_id})
    assert result.status == 200, result.body
    prompt_id = result.json()["prompt_id"]
    await client.wait_done(prompt_id)
    entry = (await client.history(prompt_id))[prompt_id]
    assert entry["prompt"][2] == API_PROMPT
    assert entry["prompt"][3]["extra_pnginfo"]["workflow"] == UI_WORKFLOW  # kept for the saved files
    assert entry["status"]["status_str"] == "success"


async def test_the_workflow_in_extra_pnginfo_is_run_when_there_is_no_prompt(client):
    body = {"client_id": client.client_id, "extra_data": {"extra_pnginfo": {"workflow": UI_WORKFLOW}}}
    result = await client.post_json("/prompt", body)
    assert result.status == 200, result.body
    prompt_id = result.json()["prompt_id"]
    await client.wait_done(prompt_id)
    assert (await client.history(prompt_id))[prompt_id]["prompt"][2] == API_PROMPT


async def test_convert_answers_the_api_prompt_without_queueing(client):
    history_before = await client.history()
    result = await client.post_json("/api/workflow/convert", {"workflow": UI_WORKFLOW})
    assert result.status == 200 and result.json() == {"prompt": API_PROMPT}
    assert (await client.post_json("/workflow/convert", UI_WORKFLOW)).json() == {"prompt": API_PROMPT}
    assert await client.history() == history_before


def broken(change) -> dict:
    workflow = copy.deepcopy(UI_WORKFLOW)
    change(workflow)
    return workflow


async def test_bad_ui_graphs_are_400s_naming_the_node_and_the_widget(client):
    cases = [
        (broken(lambda w: w["links"].pop(1)), "12", "value", "dangling link"),
        (broken(lambda w: w["nodes"][0].update(type="NoSuchNode")), "10", None, "unknown type 'NoSuchNode'"),
        (broken(lambda w: w["nodes"][1].update(widgets_values=[0])), "11", "b", "no value for 'b'"),
    ]
    cycle = broken(lambda w: w.update(definitions={"subgraphs": [{
        "id": "22222222-2222-4222-8222-222222222222", "name": "Loop", "inputs": [], "outputs": [], "links": [],
        "nodes": [{"id": 1, "type": "22222222-2222-4222-8222-222222222222", "mode": 0}]}]}))
    cycle["nodes"].append({"id": 16, "type": "22222222-2222-4222-8222-222222222222", "mode": 0})
    cases.append((cycle, "16:1", None, "contains itself"))
    for workflow, node_id, widget, words in cases:
        for path, body in (("/prompt", {"workflow": workflow}), ("/api/workflow/convert", {"workflow": workflow})):
            result = await client.post_json(path, body)
            assert result.status == 400, (path, words)
            error = result.json()
            assert error["error"]["type"] == "invalid_workflow" and words in error["error"]["details"]
            assert error["error"]["extra_info"]["node_id"] == node_id
            assert error["error"]["extra_info"].get("input_name") == widget
            assert list(error["node_errors"]) == [node_id]


async def test_history_offset_at_or_past_the_number_of_entries_is_empty(client):
    await client.run({"1": node("KilnTestIntOutput", value=1)})
    count = len(await client.history())
    assert count >= 1
    assert await client.history(offset=count) == {}
    assert await client.history(offset=count + 5) == {}
    assert len(await client.history(offset=count - 1)) == 1


async def test_a_lazy_any_type_node_with_an_async_check_accepts_string_constants(client):
    prompt = {
        "1": node("KilnTestAsyncLazyAny", input1="first", input2="second", condition=False),
        "2": node("KilnTestStringOutput", text=link(1)),
    }
    run = await client.run(prompt)
    assert run.history["status"]["status_str"] == "success", run.history["status"]
    assert run.history["outputs"]["2"] == {"length": [len("second")]}
