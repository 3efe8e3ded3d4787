"""`--max-json-depth` and `--max-prompt-nodes`: a body nested too deeply or a prompt with too many nodes is a 400
with a JSON error, never a 500; prompts within the limits run. (`--max-upload-size` is test_upload_limit.py's.)"""

from __future__ import annotations

import json

import pytest

from .conftest import start_server
from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio

MAX_DEPTH = 16
MAX_NODES = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    kiln = start_server(tmp_path_factory, "kiln-limits",
                        ["--max-json-depth", str(MAX_DEPTH), "--max-prompt-nodes", str(MAX_NODES)])
    yield kiln
    kiln.stop()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def chain(length: int) -> dict:
    """`length` nodes: a constant, then adders, ending in an output node."""
    prompt = {"1": node("KilnTestInt", value=fresh())}
    for index in range(2, length):
        prompt[str(index)] = node("KilnTestIntAdd", a=link(index - 1), b=1)
    prompt[str(length)] = node("KilnTestIntOutput", value=link(length - 1))
    return prompt


@pytest.mark.parametrize("path", ["/prompt", "/api/prompt", "/queue", "/history", "/free"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 3000, 200_000])
async def test_a_body_nested_past_the_limit_is_400_json_too_deep(client, path, depth):
    body = '{"prompt": {"1": {"inputs": {"x": ' + nested(depth - 4) + "}}}}"
    answer = await client.post_raw(path, body.encode())
    assert answer.status == 400, answer.body[:300]
    assert answer.json()["error"]["type"] == "json_too_deep"


async def test_a_body_at_the_limit_is_read(client):
    prompt = {"1": node("KilnTestInt", value=fresh()), "2": node("KilnTestIntOutput", value=link(1))}
    answer = await client.post_json("/prompt", {"prompt": prompt, "extra_data": {"deep": json.loads(nested(MAX_DEPTH - 2))}})
    assert answer.status == 200, answer.body[:300]


@pytest.mark.parametrize("body", [b'{"prompt": ' + b"1" * 5000 + b"}", b'{"prompt": {"1": ', b"\xff\xfe{}",
                                  b'{"a": "\\ud800"' + b"}" * 2])
async def test_malformed_bodies_are_400_invalid_json(client, body):
    answer = await client.post_raw("/prompt", body)
    assert answer.status == 400, answer.body[:300]
    assert answer.json()["error"]["type"] == "invalid_json"


async def test_interrupt_ignores_a_body_it_cannot_read(client):
    assert (await client.post_raw("/interrupt", nested(5000).encode())).status == 200


async def test_a_prompt_with_too_many_nodes_is_400_prompt_too_large(client):
    answer = await client.submit(chain(MAX_NODES + 1))
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["type"] == "prompt_too_large"
    assert "--max-prompt-nodes" in error["details"]


async def test_a_prompt_at_the_node_limit_runs(client):
    run = await client.run(chain(MAX_NODES))
    assert len(run.executed_nodes()) == MAX_NODES


async def test_a_websocket_message_nested_too_deeply_is_ignored_and_the_socket_stays_open(client):
    await client.ws.send_str(nested(200_000))  # json.loads alone would raise RecursionError here
    await client.ws.send_str('{"type": "feature_flags", ' + '"data": ' + nested(MAX_DEPTH + 5) + "}")
    prompt = {"1": node("KilnTestInt", value=fresh()), "2": node("KilnTestIntOutput", value=link(1))}
    run = await client.run(prompt)
    assert "execution_success" in run.types() and not client.ws.closed


@pytest.mark.parametrize("body", [{"client_id": {"a": 1}}, {"client_id": 7}, {"extra_data": {"client_id": ["x"]}}])
async def test_a_client_id_that_is_not_a_string_is_400(client, body):
    prompt = {"1": node("KilnTestInt", value=fresh()), "2": node("KilnTestIntOutput", value=link(1))}
    answer = await client.post_raw("/prompt", json.dumps({"prompt": prompt, **body}).encode())
    assert answer.status == 400 and answer.json()["error"]["type"] == "invalid_prompt"
    assert "client_id" in answer.json()["error"]["message"]
