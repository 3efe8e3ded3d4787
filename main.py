"""Kiln's command line: parse ComfyUI's flags, set up folders and nodes, start the runner and the server.

    python main.py [--listen [IP]] [--port 8188] [--cpu] ...      the server (see --help)
    python main.py run WORKFLOW.json [--set NODE.INPUT=VALUE]      one workflow, no server (see cli_run.py)
    python main.py worker --ray ADDRESS [--workers N] [flags]      Ray worker actors for a --ray server
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
import time

from comfy.cli_args import args, parse_cli

# The repository root must be importable for custom nodes (`import folder_paths`, `from server import ...`).
REPO_ROOT = os.path.dirname(os.path.abspath(__file__))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


# Folders whose files mean a model will probably be loaded soon (see comfy/warm_up.py).
MODEL_FOLDERS = ("checkpoints", "diffusion_models")


def setup_logging(level: str, use_stdout: bool) -> None:
    from app.logger import setup_logger

    setup_logger(level, use_stdout)


def open_job_store():
    """The durable job store named by --store / --database-url (default <user directory>/kiln.db); with
    --quick-test-for-ci, an in-memory one, so a test start never touches a real queue."""
    import folder_paths
    from comfy_execution.store import SQLiteJobStore, StoreDamagedError, move_aside, store_path

    if args.quick_test_for_ci:
        return SQLiteJobStore(":memory:")
    try:
        path = store_path(args.store, args.database_url, folder_paths.get_user_directory())
        try:
            store = SQLiteJobStore(path, synchronous=args.store_sync.upper())
        except StoreDamagedError as damaged:
            if not args.store_recover:
                raise
            aside = move_aside(path)
            logging.warning("%s\n--store-recover: moved it aside to %s (keep it to recover jobs from it by hand); "
                            "starting with an empty queue and history.", damaged, aside)
            store = SQLiteJobStore(path, synchronous=args.store_sync.upper())
    except (ValueError, OSError, sqlite3.Error, RuntimeError) as ex:
        print(f"Kiln could not open its job store: {ex}", file=sys.stderr)
        raise SystemExit(2) from ex
    logging.info("Job store: %s", path)
    return store


def listen_addresses() -> list[tuple[str, int]]:
    return [(address.strip(), args.port) for address in args.listen.split(",") if address.strip()]


async def serve(server, queue, runner) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully (`drain`); a second signal cuts the wait short."""
    def announce(scheme: str, address: str, port: int) -> None:
        shown = f"[{address}]" if ":" in address else address
        print(f"Kiln is listening on {scheme}://{shown}:{port}", flush=True)

    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    hurry = asyncio.Event()

    def on_signal(name: str) -> None:
        if stop_requested.is_set():
            logging.warning("%s again: exiting without waiting for the running prompt.", name)
            hurry.set()
        else:
            logging.info("%s: shutting down (send it again to exit at once).", name)
            stop_requested.set()

    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(stop_signal, on_signal, stop_signal.name)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C still raises KeyboardInterrupt
            pass
    await server.start_multi_address(listen_addresses(), announce, verbose=not args.dont_print_server)
    publisher = loop.create_task(server.publish_loop())
    server.start_webhooks()
    await stop_requested.wait()
    await drain(queue, runner, args.shutdown_timeout, hurry)
    publisher.cancel()
    await server.stop_webhooks()


async def drain(queue, runner, timeout: float, hurry: asyncio.Event) -> None:
    """Take no more prompts (POST /prompt answers 503), interrupt the running prompts (also one taken but not
    started yet), wait until they stop at a step boundary (at most `timeout` seconds), put them back in the queue
    for the next start, and close the store."""
    running = queue.begin_shutdown()
    if running:
        logging.info("Stopping prompt %s at its next step (waiting up to %.0f s)...", running[0], timeout)
    runner.interrupt()
    deadline = time.monotonic() + timeout
    while not queue.wait_until_idle(0) and time.monotonic() < deadline and not hurry.is_set():
        await asyncio.sleep(0.05)
    queue.close()
    logging.info("Stopped server")


def start_server(argv: list[str]) -> None:
    import folder_paths
    from comfy_execution.node_loading import execute_prestartup_scripts

    folder_paths.apply_cli_args(args)
    folder_paths.cleanup_temp_directory()
    if not args.disable_all_custom_nodes or args.whitelist_custom_nodes:
        execute_prestartup_scripts()

    import execution
    import nodes
    from comfy_execution.progress import install_progress_hook
    from server import PromptServer

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = PromptServer(loop)
    queue = execution.PromptQueue(store=open_job_store(), history_max_items=args.history_max_items,
                                  history_max_age_seconds=args.history_max_age_days * 86400 or None,
                                  delete_outputs=args.history_delete_outputs)
    server.attach_queue(queue)
    nodes.init_extra_nodes(init_custom_nodes=True)
    server.add_routes()
    install_progress_hook(server)
    if not args.quick_test_for_ci and any(folder_paths.get_filename_list(kind) for kind in MODEL_FOLDERS):
        from comfy.warm_up import import_model_library_in_background

        import_model_library_in_background()  # the first model load then skips ~4 s of imports
    if args.quick_test_for_ci:
        print("Kiln started up and loaded its nodes (--quick-test-for-ci): exiting.", flush=True)
        return
    runner = build_runner(queue, server, argv)
    queue.runner = runner
    runner.start()
    try:
        loop.run_until_complete(serve(server, queue, runner))
    except KeyboardInterrupt:
        logging.info("Stopped server")
    except OSError as ex:
        print(f"Kiln could not listen on {args.listen}:{args.port}: {ex.strerror or ex}", file=sys.stderr)
        raise SystemExit(2) from ex
    finally:
        runner.stop()
        folder_paths.cleanup_temp_directory()


def build_runner(queue, server, argv: list[str]):
    """What runs the queue's prompts (a `comfy_execution.runner.Runner`, not started yet): this process's worker
    thread, reporting to the server; with --ray, the dispatcher to Ray worker actors."""
    if not args.ray:
        import execution
        from comfy_execution.caching import cache_settings
        from comfy_execution.runner import LocalRunner

        cache_type, cache_args = cache_settings(args)
        return LocalRunner(queue, execution.PromptExecutor(server, cache_type=cache_type, cache_args=cache_args))
    from comfy_execution.distributed import prepare_ray_environment

    prepare_ray_environment()
    try:
        from comfy_execution.distributed.cluster import start_ray_runner
    except ImportError as ex:
        print(f"--ray needs Ray: pip install \".[ray]\" ({ex})", file=sys.stderr)
        raise SystemExit(2) from ex
    try:
        return start_ray_runner(queue, server, args, argv)
    except (ConnectionError, RuntimeError, ValueError) as ex:
        print(f"Kiln could not start its Ray workers ({args.ray}): {ex}", file=sys.stderr)
        raise SystemExit(2) from ex


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if argv[:1] == ["worker"]:  # this machine's Ray worker actors (comfy_execution/distributed/cluster.py)
        from comfy_execution.distributed import prepare_ray_environment

        prepare_ray_environment()
        try:
            from comfy_execution.distributed import cluster
        except ImportError as ex:
            print(f"main.py worker needs Ray: pip install \".[ray]\" ({ex})", file=sys.stderr)
            raise SystemExit(2) from ex
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        raise SystemExit(cluster.run_worker_command(argv[1:]))
    if argv[:1] == ["run"]:  # one workflow from a file, without the HTTP server (cli_run.py)
        import cli_run

        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        raise SystemExit(cli_run.main(argv[1:]))
    parse_cli(argv)
    setup_logging(args.verbose, args.log_stdout)
    start_server(argv)


if __name__ == "__main__":
    main()
