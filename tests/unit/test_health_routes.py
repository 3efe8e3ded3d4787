"""/health, /ready and /metrics against a queue whose worker is alive, dead or draining."""

from __future__ import annotations

import asyncio
import threading

import pytest
import pytest_asyncio
from aiohttp import web

from app.health_routes import add_health_routes
from comfy_execution import metrics
from comfy_execution.prompt_queue import PromptQueue


class FakeServer:
    number = 0

    def queue_updated(self) -> None:
        pass


@pytest.fixture
def queue():
    return PromptQueue(FakeServer())


@pytest_asyncio.fixture
async def http(aiohttp_client, queue):
    routes = web.RouteTableDef()
    add_health_routes(routes, queue.server)
    app = web.Application()
    app.add_routes(routes)
    return await aiohttp_client(app)


@pytest.mark.asyncio
async def test_health_answers_200_whatever_the_worker_does(http, queue):
    response = await http.get("/health")
    assert response.status == 200 and await response.json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_ready_is_503_until_a_worker_runs_and_after_it_died(http, queue):
    response = await http.get("/ready")
    assert response.status == 503 and (await response.json())["worker_alive"] is False

    blocker = threading.Event()
    worker = threading.Thread(target=lambda: (queue.get(timeout=0), blocker.wait(5)))
    worker.start()
    try:
        while queue.worker_thread is None:
            await asyncio.sleep(0.01)
        queue.put((0, "a", {}, {}, []))
        response = await http.get("/ready")
        assert response.status == 200
        assert await response.json() == {"queue_depth": 1, "worker_alive": True, "draining": False}
        queue.begin_shutdown()
        assert (await http.get("/ready")).status == 503
    finally:
        blocker.set()
        worker.join()
    assert (await http.get("/ready")).status == 503


@pytest.mark.asyncio
async def test_metrics_are_prometheus_text_with_jobs_by_state(http, queue):
    queue.put((0, "a", {}, {}, []))
    queue.put((1, "b", {}, {}, []))
    queue.cancel_pending("b")
    before = metrics.node_cache_hits.value
    metrics.node_cache_hits.inc()
    response = await http.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = await response.text()
    assert 'kiln_jobs{state="pending"} 1\n' in text
    assert 'kiln_jobs{state="cancelled"} 1\n' in text
    assert f"kiln_node_cache_hits_total {int(before) + 1}\n" in text
    assert "# TYPE kiln_job_execution_seconds histogram\n" in text
    assert "kiln_model_loads_total " in text
    assert "kiln_worker_alive 0\n" in text


def test_histogram_buckets_are_cumulative():
    histogram = metrics.Histogram("t_seconds", "test", buckets=(0.1, 1.0))
    for value in (0.05, 0.5, 5.0):
        histogram.observe(value)
    text = histogram.render()
    assert 't_seconds_bucket{le="0.1"} 1\n' in text
    assert 't_seconds_bucket{le="1"} 2\n' in text
    assert 't_seconds_bucket{le="+Inf"} 3\n' in text
    assert "t_seconds_count 3" in text and histogram.mean() == pytest.approx(5.55 / 3)
