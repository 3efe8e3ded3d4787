"""A Ray worker's body (`KilnWorker`) built in the test process, without Ray, and the process state it changes
(flags, folders, node registry, progress hook, `PromptServer.instance` stand-in, logging) put back afterwards."""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import comfy.utils
import folder_paths
import nodes
from comfy.cli_args import args
from comfy_execution import server_stand_in

_FOLDER_STATE = ("base_path", "models_dir", "output_directory", "temp_directory", "input_directory", "user_directory")


@contextlib.contextmanager
def plain_worker(base: Path, name: str = "test-worker") -> Iterator:
    """A `KilnWorker` started with `--base-directory base --disable-all-custom-nodes`."""
    from comfy_execution.distributed.worker import KilnWorker

    saved_args = dict(vars(args))
    saved_folders = {state: getattr(folder_paths, state) for state in _FOLDER_STATE}
    saved_paths = {key: (list(paths), set(extensions))
                   for key, (paths, extensions) in folder_paths.folder_names_and_paths.items()}
    saved_nodes = dict(nodes.NODE_CLASS_MAPPINGS), dict(nodes.NODE_DISPLAY_NAME_MAPPINGS)
    saved_hook = comfy.utils.get_progress_bar_global_hook()
    saved_stand_in = server_stand_in._installed
    root = logging.getLogger()
    saved_logging = list(root.handlers), root.level
    worker = None
    try:
        worker = KilnWorker(name, ["--disable-all-custom-nodes", "--base-directory", str(base)])
        yield worker
    finally:
        vars(args).clear()
        vars(args).update(saved_args)
        for state, value in saved_folders.items():
            setattr(folder_paths, state, value)
        folder_paths.folder_names_and_paths.clear()
        folder_paths.folder_names_and_paths.update(saved_paths)
        folder_paths.filename_list_cache.clear()
        for registry, saved in zip((nodes.NODE_CLASS_MAPPINGS, nodes.NODE_DISPLAY_NAME_MAPPINGS), saved_nodes, strict=True):
            registry.clear()
            registry.update(saved)
        comfy.utils.set_progress_bar_global_hook(saved_hook)
        server_stand_in._installed = saved_stand_in
        root.handlers[:] = saved_logging[0]
        root.setLevel(saved_logging[1])
        if worker is not None:
            shutil.rmtree(worker.root, ignore_errors=True)
