"""Record ComfyUI 0.3.64's `/object_info` from the oracle (../shared/reference/oracle.md) into
tests/fixtures/comfyui/object_info_0.3.64.json: the node interfaces the frontend and Kiln's workflow converter
read when the browser test compares them on the templates of comfyui-workflow-templates 0.1.95.

    COMFY_REF=$(../shared/tools/comfy-oracle --check) python tools/oracle/record_object_info.py

The oracle's venv has no torchaudio (no wheel matches its torch), so ComfyUI's two audio modules
(nodes_audio, nodes_audio_encoder) fail to import and their nodes (LoadAudio, SaveAudio, EmptyLatentAudio,
AudioEncoderLoader, ...) would be missing. Their interfaces do not touch torchaudio (it is only called when a
node runs), so the oracle is started with a stand-in `torchaudio` module first on its path: every attribute is
an inert placeholder. Nothing runs, so nothing of it is ever called. The recording keeps every class ComfyUI
lists, in its order, exactly as served.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET = REPO_ROOT / "tests" / "fixtures" / "comfyui" / "object_info_0.3.64.json"
PORT = 8232

TORCHAUDIO_STAND_IN = '''"""Stand-in for torchaudio so ComfyUI's audio modules import: interfaces only, never called."""
import sys
import types


class _Inert:
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError("torchaudio stand-in: not for running nodes")

    def __getattr__(self, name):
        return _Inert()


def __getattr__(name):
    return _Inert()


for _name in ("functional", "transforms", "compliance", "io", "models", "pipelines", "utils"):
    _module = types.ModuleType(__name__ + "." + _name)
    _module.__getattr__ = lambda name: _Inert()
    sys.modules[__name__ + "." + _name] = _module
    globals()[_name] = _module
'''


def main() -> int:
    oracle = os.environ.get("COMFY_REF")
    if not oracle:
        print("set COMFY_REF to the oracle folder (../shared/tools/comfy-oracle --check prints it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        stand_in = scratch_path / "stand_in" / "torchaudio"
        stand_in.mkdir(parents=True)
        (stand_in / "__init__.py").write_text(TORCHAUDIO_STAND_IN, encoding="utf-8")
        folders = {name: scratch_path / name for name in ("output", "input", "temp", "user")}
        for folder in folders.values():
            folder.mkdir()
        command = [f"{oracle}/venv/bin/python", "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(PORT),
                   "--disable-auto-launch", "--output-directory", str(folders["output"]),
                   "--input-directory", str(folders["input"]), "--temp-directory", str(folders["temp"]),
                   "--user-directory", str(folders["user"])]
        environment = {**os.environ, "PYTHONPATH": str(stand_in.parent), "OMP_NUM_THREADS": "1"}
        log_path = scratch_path / "oracle.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=f"{oracle}/ComfyUI", env=environment, stdout=log,
                                       stderr=subprocess.STDOUT)
        try:
            object_info = _fetch_when_ready(f"http://127.0.0.1:{PORT}/object_info", process)
        finally:
            process.terminate()
            process.wait(timeout=30)
        if "IMPORT FAILED" in log_path.read_text(errors="replace"):
            print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
            print("some ComfyUI modules failed to import (above)", file=sys.stderr)
    TARGET.write_text(json.dumps(object_info, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{TARGET}: {len(object_info)} node classes")
    return 0


def _fetch_when_ready(url: str, process: subprocess.Popen, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the oracle exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return json.load(answer)
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
