"""Ray itself: joining or starting a cluster, creating Kiln's worker actors, finding the ones other machines made,
and the dispatcher's calls to them (`RayWorkerCalls`); `start_ray_runner` puts it together for `--ray`.

Every worker actor is named `kiln-worker-...` in the Ray namespace `kiln`, restarts when its process dies
(`max_restarts=-1`; a call in flight then fails, and the dispatcher queues that job again), and runs its methods
on a few threads, so that `info` and `interrupt` answer while `execute` runs.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import ray
from ray.exceptions import RayError, RayTaskError

from comfy_execution.distributed.dispatcher import RayDispatcher, WorkerFailed, WorkerLost

if TYPE_CHECKING:
    from comfy_execution.progress import EventSink
    from comfy_execution.prompt_queue import PromptQueue

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAMESPACE = "kiln"
WORKER_PREFIX = "kiln-worker-"
ACTOR_THREADS = 4  # execute, plus info / interrupt / free while it runs


def _runtime_env() -> dict[str, Any]:
    """Worker processes import Kiln from this checkout, offline."""
    python_path = os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))
    return {"env_vars": {"PYTHONPATH": python_path, "HF_HUB_OFFLINE": "1"}}


def parse_local(address: str) -> int | None:
    """`local` or `local:N` -> N worker slots (None: one per CPU core); None for a cluster address."""
    if address == "local":
        return os.cpu_count() or 1
    if address.startswith("local:"):
        count = address[len("local:"):]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--ray {address!r}: write local:N with N a positive number of workers")
        return int(count)
    return None


def connect(address: str, object_store_mb: int) -> None:
    """Start a private Ray instance on this machine, bound to loopback (`local:N`), or join a running cluster
    (`auto`, `HOST:PORT`, `ray://...`)."""
    local_slots = parse_local(address)
    if local_slots is not None:
        ray.init(num_cpus=local_slots, object_store_memory=object_store_mb * 1024 * 1024, include_dashboard=False,
                 namespace=NAMESPACE, runtime_env=_runtime_env(), _node_ip_address="127.0.0.1",
                 configure_logging=False, log_to_driver=True)
    else:
        ray.init(address=address, namespace=NAMESPACE, runtime_env=_runtime_env(), configure_logging=False,
                 log_to_driver=True)


def worker_options(name: str, *, gpu: bool, detached: bool, node_id: str | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"name": name, "namespace": NAMESPACE, "max_restarts": -1, "max_task_retries": 0,
                               "max_concurrency": ACTOR_THREADS, "num_cpus": 1, "num_gpus": 1 if gpu else 0,
                               "get_if_exists": True}
    if detached:
        options["lifetime"] = "detached"
    if node_id is not None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
    return options


def create_workers(names: list[str], argv: list[str], *, gpu: bool, detached: bool = False,
                   node_id: str | None = None) -> dict[str, Any]:
    """Start (or find, if they already run) the named worker actors; name -> actor handle."""
    from comfy_execution.distributed.worker import KilnWorker

    actor_class = ray.remote(KilnWorker)
    return {name: actor_class.options(**worker_options(name, gpu=gpu, detached=detached, node_id=node_id)).remote(
        name, argv) for name in names}


def discover_workers() -> dict[str, Any]:
    """Every Kiln worker actor registered in the cluster (by `main.py worker` on any machine, or by us)."""
    handles = {}
    for entry in ray.util.list_named_actors(all_namespaces=False):
        name = entry if isinstance(entry, str) else entry.get("name", "")
        if name.startswith(WORKER_PREFIX):
            try:
                handles[name] = ray.get_actor(name, namespace=NAMESPACE)
            except ValueError:  # it died between the listing and the lookup
                continue
    return handles


def shutdown() -> None:
    if ray.is_initialized():
        ray.shutdown()


class RayWorkerCalls:
    """The dispatcher's calls to worker actors (`dispatcher.WorkerCalls`), through Ray: a Ray error in a call
    becomes `WorkerFailed` when the worker's own code raised, `WorkerLost` otherwise (its process is gone)."""

    def discover(self) -> dict[str, Any]:
        return discover_workers()

    def ask_info(self, handle: Any) -> Any:
        return handle.info.remote()

    def poll_info(self, pending: Any) -> dict | None:
        ready, _ = ray.wait([pending], timeout=0)
        if not ready:
            return None
        try:
            return ray.get(pending)
        except RayError as ex:
            raise WorkerLost(type(ex).__name__) from ex

    def run(self, handle: Any, item: list, inputs: dict[str, bytes], features: dict[str, bool]) -> Iterator[tuple]:
        try:
            for reference in handle.execute.options(num_returns="streaming").remote(item, inputs, features):
                yield ray.get(reference)
        except RayTaskError as ex:
            raise WorkerFailed(str(ex.cause or ex)) from ex
        except RayError as ex:
            raise WorkerLost(type(ex).__name__) from ex

    def interrupt(self, handle: Any, prompt_id: str) -> None:
        handle.interrupt.remote(prompt_id)

    def free(self, handle: Any, unload_models: bool, free_memory: bool) -> None:
        handle.free.remote(unload_models, free_memory)

    def close(self) -> None:
        shutdown()


def start_ray_runner(queue: PromptQueue, sink: EventSink, args: Any, argv: list[str]) -> RayDispatcher:
    """Join or start the Ray cluster that `--ray` names, start the local workers (`local:N`) or adopt the ones
    `main.py worker` registered: the dispatcher that runs the queue's prompts on them (not started yet)."""
    import torch

    connect(args.ray, args.ray_object_store_mb)
    local_slots = parse_local(args.ray)
    handles: dict[str, Any] = {}
    if local_slots is not None:
        names = [f"{WORKER_PREFIX}local-{index}" for index in range(local_slots)]
        gpus = torch.cuda.device_count()
        handles = create_workers(names, argv, gpu=gpus >= local_slots)
    logging.info("Dispatching to Ray workers (%s)", args.ray)
    return RayDispatcher(queue, sink, RayWorkerCalls(), handles=handles, max_attempts=args.ray_max_attempts,
                         affinity_wait=args.ray_affinity_wait, discover=local_slots is None)


def run_worker_command(argv: list[str]) -> int:
    """`python main.py worker --ray ADDRESS [--workers N] [Kiln flags]`: start this machine's worker actors in
    the cluster (one per GPU, or N CPU slots) and keep them until SIGINT/SIGTERM; the server finds them by name."""
    import argparse

    import torch

    from comfy.cli_args import parse_cli

    parser = argparse.ArgumentParser(prog="main.py worker", description=run_worker_command.__doc__)
    parser.add_argument("--ray", required=True, metavar="ADDRESS",
                        help="the Ray cluster to join (the head's HOST:PORT, or auto)")
    parser.add_argument("--workers", type=int, default=None,
                        help="how many workers to start here (default: one per GPU, else 1 on the CPU)")
    parser.add_argument("--object-store-mb", type=int, default=256, help=argparse.SUPPRESS)
    own, kiln_argv = parser.parse_known_args(argv)
    try:
        parse_cli(kiln_argv)  # refuse unknown flags here, not in every actor
    except SystemExit as stop:
        return int(stop.code or 2)
    if parse_local(own.ray) is not None:
        print("main.py worker joins a running cluster: give its address (start one with `ray start --head`), "
              "or run the server with --ray local:N instead.", file=sys.stderr)
        return 2
    gpus = torch.cuda.device_count()
    count = own.workers or max(gpus, 1)
    try:
        connect(own.ray, own.object_store_mb)
    except (ConnectionError, RuntimeError, ValueError) as ex:
        print(f"Could not join the Ray cluster at {own.ray}: {ex}", file=sys.stderr)
        return 2
    host = socket.gethostname()
    names = [f"{WORKER_PREFIX}{host}-{index}" for index in range(count)]
    handles = create_workers(names, kiln_argv, gpu=gpus >= count and gpus > 0, detached=True,
                             node_id=ray.get_runtime_context().get_node_id())
    ray.get([handle.info.remote() for handle in handles.values()])
    print(f"Kiln workers ready on {host}: {', '.join(names)}", flush=True)
    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    stop.wait()
    for name, handle in handles.items():
        logging.info("Stopping %s", name)
        ray.kill(handle, no_restart=True)
    shutdown()
    return 0
