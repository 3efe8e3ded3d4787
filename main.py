"""Kiln's command line: parse ComfyUI's flags, set up folders and nodes, start the worker thread and the server.

    python main.py [--listen [IP]] [--port 8188] [--cpu] ...      the server (see --help)
    python main.py run WORKFLOW.json [--set NODE.INPUT=VALUE]      one workflow, no server (see cli_run.py)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
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


def cache_settings() -> tuple:
    from comfy_execution.caching import CacheType

    if args.cache_lru > 0:
        return CacheType.LRU, {"lru": args.cache_lru}
    if args.cache_ram > 0:
        return CacheType.RAM_PRESSURE, {"ram": args.cache_ram}
    if args.cache_none:
        return CacheType.NONE, {}
    return CacheType.CLASSIC, {}


def prompt_worker(queue, server) -> None:
    """Take prompts off the queue one at a time and run them; never let one prompt stop the loop."""
    import comfy.model_management
    import execution

    cache_type, cache_args = cache_settings()
    executor = execution.PromptExecutor(server, cache_type=cache_type, cache_args=cache_args)
    last_gc_collect = 0.0
    need_gc = False
    while True:
        queue_item = queue.get(timeout=1000)
        if queue_item is not None:
            item, item_id = queue_item
            started = time.perf_counter()
            prompt_id = item[1]
            server.last_prompt_id = prompt_id
            try:
                executor.execute(item[2], prompt_id, item[3], item[4])
            except Exception as ex:  # a bug in the engine itself: record it as this prompt's failure
                logging.exception("Executor failed on prompt %s", prompt_id)
                executor.success = False
                executor.status_messages.append(("execution_error", {
                    "prompt_id": prompt_id, "node_id": None, "node_type": None, "executed": [],
                    "exception_message": str(ex), "exception_type": type(ex).__name__, "traceback": [],
                    "current_inputs": {}, "current_outputs": [], "timestamp": int(time.time() * 1000)}))
                executor.history_result = {"outputs": {}, "meta": {}}
            need_gc = True
            queue.task_done(item_id, executor.history_result, status=execution.ExecutionStatus(
                status_str="success" if executor.success else "error",
                completed=executor.success,
                messages=executor.status_messages))
            if server.client_id is not None:
                server.send_sync("executing", {"node": None, "prompt_id": prompt_id}, server.client_id)
            logging.info("Prompt executed in %.2f seconds", time.perf_counter() - started)

        flags = queue.get_flags()
        free_memory = flags.get("free_memory", False)
        if flags.get("unload_models", free_memory):
            comfy.model_management.unload_all_models()
            need_gc = True
        if free_memory:
            executor.reset()
            need_gc = True
        if need_gc and time.perf_counter() - last_gc_collect > 10.0:
            gc.collect()
            comfy.model_management.soft_empty_cache()
            last_gc_collect = time.perf_counter()
            need_gc = False


def listen_addresses() -> list[tuple[str, int]]:
    return [(address.strip(), args.port) for address in args.listen.split(",") if address.strip()]


async def serve(server) -> None:
    def announce(scheme: str, address: str, port: int) -> None:
        shown = f"[{address}]" if ":" in address else address
        print(f"Kiln is listening on {scheme}://{shown}:{port}", flush=True)

    await server.start_multi_address(listen_addresses(), announce, verbose=not args.dont_print_server)
    await server.publish_loop()


def start_server() -> None:
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
    queue = execution.PromptQueue(server)
    nodes.init_extra_nodes(init_custom_nodes=True)
    server.add_routes()
    install_progress_hook(server)
    if not args.quick_test_for_ci and any(folder_paths.get_filename_list(kind) for kind in MODEL_FOLDERS):
        from comfy.warm_up import import_model_library_in_background

        import_model_library_in_background()  # the first model load then skips ~4 s of imports
    if args.quick_test_for_ci:
        print("Kiln started up and loaded its nodes (--quick-test-for-ci): exiting.", flush=True)
        return
    threading.Thread(target=prompt_worker, args=(queue, server), daemon=True, name="prompt-worker").start()
    try:
        loop.run_until_complete(serve(server))
    except KeyboardInterrupt:
        logging.info("Stopped server")
    except OSError as ex:
        print(f"Kiln could not listen on {args.listen}:{args.port}: {ex.strerror or ex}", file=sys.stderr)
        raise SystemExit(2) from ex
    finally:
        folder_paths.cleanup_temp_directory()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if argv[:1] == ["run"]:  # one workflow from a file, without the HTTP server (cli_run.py)
        import cli_run

        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        raise SystemExit(cli_run.main(argv[1:]))
    parse_cli(argv)
    setup_logging(args.verbose, args.log_stdout)
    start_server()


if __name__ == "__main__":
    main()
