"""Routes for operators and orchestrators: `/health` (the process serves), `/ready` (it can take and run
prompts) and `/metrics` (Prometheus text format)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from comfy_execution import metrics
from comfy_execution.store import PENDING

if TYPE_CHECKING:
    from server import PromptServer

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _model_loads() -> int:
    import comfy.model_management

    return comfy.model_management.model_load_count()


def render_metrics(server: PromptServer) -> str:
    """Every metric: jobs by state (from the store), queue wait and execution time, node cache hits and
    misses, model loads, and the runner's per-worker samples (Ray)."""
    queue = server.prompt_queue
    jobs = metrics.render_gauge("kiln_jobs", "Jobs in the store by state.",
                                {(("state", state),): count for state, count in queue.store.counts_by_state().items()})
    worker = metrics.render_gauge("kiln_worker_alive", "1 while the prompt worker thread runs.",
                                  {(): 1 if queue.worker_alive() else 0})
    model_loads = metrics.render_counter("kiln_model_loads_total", "Models loaded onto their device.",
                                         _model_loads())
    workers = queue.runner.render_metrics() if queue.runner is not None else ""
    return jobs + worker + metrics.render_all() + model_loads + workers


def add_health_routes(routes: web.RouteTableDef, server: PromptServer) -> None:
    @routes.get("/health")
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    @routes.get("/ready")
    async def ready(request: web.Request) -> web.Response:
        queue = server.prompt_queue
        worker_alive = queue.worker_alive()
        body = {"queue_depth": queue.store.count([PENDING]), "worker_alive": worker_alive,
                "draining": queue.draining}
        return web.json_response(body, status=200 if worker_alive and not queue.draining else 503)

    @routes.get("/metrics")
    async def prometheus_metrics(request: web.Request) -> web.Response:
        return web.Response(body=render_metrics(server).encode("utf-8"),
                            headers={"Content-Type": PROMETHEUS_CONTENT_TYPE})
