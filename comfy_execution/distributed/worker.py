"""One executor in its own process: the body of a Ray actor (`cluster.py` wraps it with `ray.remote`).

The worker sets Kiln up as `main.py` does (the same flags, so the same model folders and custom nodes), but with
private input, output and temp folders: the server is the only keeper of files. `execute` is a generator that
Ray streams back to the server, in order:

    ("message", event, data, sid)                   every message the executor sends to its sink
    ("file", type, subfolder, filename, bytes)      each file the job wrote, before the message that names it
    ("done", {"history_result", "success", "messages"})

Its executor reports to a plain sink (`JobEventSink`) that puts messages into the running job's stream; custom
nodes see a stand-in as `PromptServer.instance` (comfy_execution/server_stand_in.py) that reports to the same
sink. Each job runs under its own cancellation token, which `interrupt` sets, also before the job has started.
Nothing here imports Ray or the server: the module also runs (and is tested) as a plain object in one process.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from typing import Any

from comfy_execution.runner import CancellationToken, PromptResult, RunTokens
from comfy_execution.server_stand_in import install_server_stand_in

# A job's files travel in the event stream: each is one object in Ray's object store.
FILE_TYPES = ("output", "temp")
# Messages after which the files written so far are shipped (each names the files of a node that just ran).
SHIP_FILES_BEFORE = frozenset({"executed", "execution_success", "execution_error", "execution_interrupted"})
_FINISHED = object()


def _configure(argv: list[str], root: str) -> None:
    """Parse Kiln's flags and set up folders and nodes as main.py does, with private input/output/temp."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from comfy.cli_args import args, parse_cli

    parse_cli(argv)
    # Ray collects the actor's output; the server's recent-lines buffer (app/logger.py) has no reader here.
    logging.basicConfig(level=args.verbose, format="%(message)s", stream=sys.stdout if args.log_stdout else sys.stderr,
                        force=True)
    import folder_paths

    folder_paths.apply_cli_args(args)
    for type_name, setter in (("input", folder_paths.set_input_directory),
                              ("output", folder_paths.set_output_directory),
                              ("temp", folder_paths.set_temp_directory)):
        os.makedirs(os.path.join(root, type_name), exist_ok=True)
        setter(os.path.join(root, type_name))


class KilnWorker:
    """Runs prompts one at a time with its own `PromptExecutor`, keeping loaded models and cached outputs
    between jobs. `name` is how the server lists it; `argv` are the server's (or `main.py worker`'s) flags."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.incarnation = uuid.uuid4().hex  # a restarted actor process gets a new one: it holds no models
        self.root = tempfile.mkdtemp(prefix=f"kiln-{name}-")
        weakref.finalize(self, shutil.rmtree, self.root, True)  # its input/output/temp scratch, at the latest on exit
        _configure(argv, self.root)

        import execution
        import nodes
        from comfy.cli_args import args
        from comfy_execution.caching import cache_settings
        from comfy_execution.progress import install_progress_hook

        self.sink = JobEventSink()
        install_server_stand_in(self.sink)  # before custom nodes load: they reach for PromptServer.instance
        nodes.init_extra_nodes(init_custom_nodes=not args.disable_all_custom_nodes)
        install_progress_hook(self.sink)
        cache_type, cache_args = cache_settings(args)
        self.executor = execution.PromptExecutor(self.sink, cache_type=cache_type, cache_args=cache_args)
        self.tokens = RunTokens()
        self.job_lock = threading.Lock()
        self.current_prompt_id: str | None = None
        self.jobs_run = 0
        self.started_at = time.time()
        logging.info("Kiln worker %s ready (pid %d)", name, os.getpid())

    # -- asked by the server, also while a job runs (the actor has spare threads) --------------------------------

    def info(self) -> dict[str, Any]:
        """Who and what this worker is: process, device and memory, loaded models, current job."""
        import comfy.model_management as mm
        import comfy.utils
        import folder_paths

        device = mm.get_torch_device()
        ram_total, ram_free = mm.system_memory()
        return {
            "name": self.name, "incarnation": self.incarnation, "pid": os.getpid(), "host": socket.gethostname(),
            "device": {"name": mm.get_torch_device_name(device), "type": device.type, "index": device.index,
                       "vram_total": mm.get_total_memory(device), "vram_free": mm.get_free_memory(device)},
            "ram_total": ram_total, "ram_free": ram_free,
            "free_memory": mm.get_free_memory(device),
            "loaded_models": [type(loaded.model).__name__ for loaded in mm.current_loaded_models],
            "model_file_reads": comfy.utils.model_file_reads(),
            "model_files": folder_paths.local_model_lists(),
            "current_prompt_id": self.current_prompt_id, "jobs_run": self.jobs_run,
            "uptime": time.time() - self.started_at,
        }

    def interrupt(self, prompt_id: str | None = None) -> bool:
        """Stop the job `prompt_id` (the running one when None) at its next step or node boundary. The server
        interrupts only the job it gave this worker: if that job's `execute` has not begun yet (both calls travel
        separately), it starts cancelled. Whether a job was reached."""
        return bool(self.tokens.cancel(prompt_id, taken=() if prompt_id is None else (prompt_id,)))

    def free(self, unload_models: bool, free_memory: bool) -> None:
        """ComfyUI's /free: unload models, and with `free_memory` also forget cached outputs."""
        import comfy.model_management

        with self.job_lock:
            if unload_models or free_memory:
                comfy.model_management.unload_all_models()
            if free_memory:
                self.executor.reset()
            comfy.model_management.soft_empty_cache()

    # -- a job ------------------------------------------------------------------------------------------------------

    def execute(self, item: list | tuple, inputs: dict[str, bytes], client_features: dict[str, bool]
                ) -> Iterator[tuple]:
        """Run one queue item (ComfyUI's 5-tuple) and stream its events; `inputs` are the input files the prompt
        names (relative path -> bytes), `client_features` the feature flags of the client that queued it."""
        with self.job_lock:
            prompt_id = item[1]
            token = self.tokens.open(prompt_id)
            try:
                yield from self._execute(item, inputs, client_features, token)
            finally:
                self.tokens.close(prompt_id)

    def _execute(self, item: list | tuple, inputs: dict[str, bytes], client_features: dict[str, bool],
                 token: CancellationToken) -> Iterator[tuple]:
        prompt_id = item[1]
        self._reset_folders(inputs)
        events: queue.Queue = queue.Queue()
        self.sink.begin(events, client_features)
        self.current_prompt_id = prompt_id
        outcome: list[PromptResult] = []
        job_thread = threading.Thread(target=self._run, args=(item, token, events, outcome), name=f"job-{prompt_id}",
                                      daemon=True)
        job_thread.start()
        shipped: set[tuple[str, str, str]] = set()
        try:
            while True:
                event = events.get()
                if event is _FINISHED:
                    break
                if event[0] == "message" and event[1] in SHIP_FILES_BEFORE:
                    yield from self._new_files(shipped)
                yield event
            job_thread.join()
            yield from self._new_files(shipped)
            if not outcome:
                raise RuntimeError(f"the executor stopped without a result on prompt {prompt_id}")
            result = outcome[0]
            yield ("done", {"history_result": result.history_result, "success": result.success,
                            "messages": result.status_messages})
        finally:
            self.current_prompt_id = None
            self.sink.end()
            self.jobs_run += 1

    def _run(self, item: list | tuple, token: CancellationToken, events: queue.Queue,
             outcome: list[PromptResult]) -> None:
        try:
            outcome.append(self.executor.execute(item[2], item[1], item[3], item[4], cancel=token))
        finally:
            events.put(_FINISHED)

    def _reset_folders(self, inputs: dict[str, bytes]) -> None:
        """Empty the private folders (the server keeps every file), then write the job's input files."""
        import folder_paths

        for type_name in ("input", *FILE_TYPES):
            folder = folder_paths.get_directory_by_type(type_name)
            assert folder is not None
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder, exist_ok=True)
        input_dir = os.path.realpath(folder_paths.get_input_directory())
        for relative, data in inputs.items():
            path = os.path.realpath(os.path.join(input_dir, relative))
            if os.path.commonpath([path, input_dir]) != input_dir:
                raise ValueError(f"input file {relative!r} is outside the input folder")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as file:
                file.write(data)

    def _new_files(self, shipped: set[tuple[str, str, str]]) -> Iterator[tuple]:
        """Each file in the output and temp folders not shipped yet, as a ("file", ...) event."""
        import folder_paths

        for type_name in FILE_TYPES:
            folder = folder_paths.get_directory_by_type(type_name)
            assert folder is not None
            for directory, _, files in os.walk(folder):
                subfolder = os.path.relpath(directory, folder)
                subfolder = "" if subfolder == "." else subfolder.replace(os.sep, "/")
                for filename in sorted(files):
                    key = (type_name, subfolder, filename)
                    if key in shipped:
                        continue
                    shipped.add(key)
                    with open(os.path.join(directory, filename), "rb") as file:
                        yield ("file", type_name, subfolder, filename, file.read())


class JobEventSink:
    """The worker executor's event sink: each message goes into the running job's event stream, in order (and is
    dropped between jobs). `client_supports` answers with the feature flags of the client that queued the job."""

    def __init__(self) -> None:
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self.last_prompt_id: str | None = None
        self._events: queue.Queue | None = None
        self._features: dict[str, bool] = {}
        self._lock = threading.Lock()

    def begin(self, events: queue.Queue, features: dict[str, bool]) -> None:
        with self._lock:
            self._events, self._features = events, dict(features)

    def end(self) -> None:
        with self._lock:
            self._events = None

    def send_sync(self, event: str | int, data: Any, sid: str | None = None) -> None:
        with self._lock:
            events = self._events
        if events is None:
            logging.debug("Dropped %s sent outside a job", event)
            return
        events.put(("message", event, data, sid))

    def client_supports(self, sid: str | None, feature: str) -> bool:
        return sid is not None and sid == self.client_id and bool(self._features.get(feature, False))
