"""Flags that change how the server caches and whom it answers: --cache-lru, --cache-none,
--enable-cors-header. Each test module-level server is started with its flag."""

from __future__ import annotations

import pytest

from .client import KilnClient
from .conftest import start_server
from .graphs import fresh, quick_prompt

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def lru_server(tmp_path_factory):
    kiln = start_server(tmp_path_factory, "kiln-cache-lru", ["--cache-lru", "10"])
    yield kiln
    kiln.stop()


@pytest.fixture(scope="module")
def no_cache_server(tmp_path_factory):
    kiln = start_server(tmp_path_factory, "kiln-cache-none", ["--cache-none"])
    yield kiln
    kiln.stop()


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory):
    kiln = start_server(tmp_path_factory, "kiln-cors", ["--enable-cors-header", "https://example.test"])
    yield kiln
    kiln.stop()


async def _client(server) -> KilnClient:
    client = KilnClient(server.url)
    await client.__aenter__()
    await client.connect()
    return client


async def test_cache_lru_reuses_results_of_an_earlier_prompt_after_a_different_one(lru_server):
    client = await _client(lru_server)
    try:
        first, second = quick_prompt(fresh()), quick_prompt(fresh())
        assert (await client.run(first)).executed_nodes() == ["1", "2"]
        assert (await client.run(second)).executed_nodes() == ["1", "2"]
        again = await client.run(first)
        assert again.executed_nodes() == []
        assert sorted(again.of_type("execution_cached")[0]["nodes"]) == ["1", "2"]
    finally:
        await client.close()


async def test_classic_cache_forgets_a_prompt_once_a_different_one_ran(client):
    first, second = quick_prompt(fresh()), quick_prompt(fresh())
    await client.run(first)
    await client.run(second)
    assert (await client.run(first)).executed_nodes() == ["1", "2"]


async def test_cache_none_runs_every_node_again(no_cache_server):
    client = await _client(no_cache_server)
    try:
        prompt = quick_prompt(fresh())
        await client.run(prompt)
        again = await client.run(prompt)
        assert again.executed_nodes() == ["1", "2"]
        assert again.of_type("execution_cached")[0]["nodes"] == []
    finally:
        await client.close()


async def test_cors_mode_answers_preflight_and_allows_other_origins(cors_server):
    client = await _client(cors_server)
    try:
        preflight = await client.request("OPTIONS", "/prompt", headers={"Origin": "https://example.test"})
        assert preflight.status == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://example.test"
        answer = await client.request("GET", "/system_stats", headers={"Origin": "https://example.test"})
        assert answer.status == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "https://example.test"
    finally:
        await client.close()
