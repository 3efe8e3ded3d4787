"""Deep and wide graphs: a 10,000-node chain and a 10,000-node fan-out validate, execute and complete
(nothing in validation, scheduling or caching may recurse once per node)."""

from __future__ import annotations

import pytest

from .conftest import start_server
from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio

SIZE = 10_000
TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own server, so the huge graphs stay out of the shared server's cache and history."""
    kiln = start_server(tmp_path_factory, "kiln-large-graphs")
    yield kiln
    kiln.stop()


async def test_ten_thousand_node_chain_completes(client):
    start = fresh()
    prompt = {"0": node("KilnTestInt", value=start)}
    for index in range(1, SIZE):
        prompt[str(index)] = node("KilnTestIntAdd", a=link(index - 1), b=1)
    prompt["out"] = node("KilnTestIntOutput", value=link(SIZE - 1))
    run = await client.run(prompt, timeout=TIMEOUT_SECONDS)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    assert run.outputs() == {"out": {"value": [start + SIZE - 1]}}
    assert len(run.executed_nodes()) == SIZE + 1


async def test_ten_thousand_node_fan_out_completes(client):
    start = fresh()
    prompt = {"source": node("KilnTestInt", value=start)}
    for index in range(SIZE):
        prompt[str(index)] = node("KilnTestSumOutput", a=link("source"), b=index)
    run = await client.run(prompt, timeout=TIMEOUT_SECONDS)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    outputs = run.outputs()
    assert len(outputs) == SIZE
    assert all(outputs[str(index)] == {"value": [start + index]} for index in range(SIZE))
