"""ComfyUI's own modules in this process, for recorders that call them directly rather than through its HTTP API
(record_umt5.py, record_wan_model.py, record_wan_vae.py): run with the oracle's interpreter
(`<oracle>/venv/bin/python`), they read `--oracle`, put its ComfyUI folder and the fixture folder on `sys.path`,
and parse ComfyUI's arguments as `--cpu`, one thread. `import comfy...` after the call gives ComfyUI's modules."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def start_comfyui(fixtures: Path, description: str | None = None) -> Path:
    """Make ComfyUI (the `--oracle` folder given on the command line) importable as on a `--cpu` server with one
    thread, and `fixtures` too; the oracle folder."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--oracle", required=True, help="the folder comfy-oracle prints")
    oracle = Path(parser.parse_args().oracle)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(fixtures))
    sys.path.insert(0, str(oracle / "ComfyUI"))
    sys.argv = [sys.argv[0], "--cpu"]
    import torch

    import comfy.options

    comfy.options.enable_args_parsing()
    torch.set_num_threads(1)
    return oracle
