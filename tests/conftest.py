"""Test-wide settings and shared fixtures.

One CPU thread (this machine has two cores and the end-to-end tests run a server beside pytest), and ComfyUI's
reproducible random SD1.5 reference checkpoint and flow-model (Flux, SD3) reference files, built once per session
for the tests that compare with ComfyUI's recorded numbers.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

import comfy  # noqa: E402,F401  before any test imports transformers: keeps a mismatched torchvision importable

torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
# ComfyUI's recorded numbers (see tests/fixtures/comfyui/README.md).
FIXTURES = Path(os.environ.get("KILN_REFERENCE_FIXTURES", REPO_ROOT / "tests" / "fixtures" / "comfyui"))
REFERENCE_CHECKPOINT_BYTES = 2_132_625_894


@pytest.fixture(scope="session")
def reference_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """ref-sd15.safetensors, built once per session with the fixtures' own script (20-40 s, 2.1 GB, deleted
    afterwards), unless KILN_REF_SD15 names an already built copy."""
    cached = os.environ.get("KILN_REF_SD15")
    if cached and Path(cached).is_file() and Path(cached).stat().st_size == REFERENCE_CHECKPOINT_BYTES:
        yield Path(cached)
        return
    path = tmp_path_factory.mktemp("reference") / "ref-sd15.safetensors"
    subprocess.run([sys.executable, str(FIXTURES / "make_reference_checkpoint.py"), str(path)], check=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """`tmp_path_factory.mktemp` for one module's fixtures, whose folders are deleted once the module's tests are
    done: the guidance, CLIP vision, GLIGEN and instruct-pix2pix modules build GBs of full-size random networks,
    and kept to the session's end they would add up past what a CI machine's disk has free."""
    made: list[Path] = []

    def make(name: str) -> Path:
        made.append(tmp_path_factory.mktemp(name))
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def _flow_reference_files() -> dict[str, tuple[str, int]]:
    """file id -> (path under models/, recorded size) for every file of flux_keys.json and sd3_keys.json."""
    files = {}
    for name in ("flux_keys.json", "sd3_keys.json"):
        for file_id, entry in json.loads((FIXTURES / name).read_text())["files"].items():
            files[file_id] = (entry["path"], entry["file_bytes"])
    return files


@pytest.fixture(scope="session")
def flow_reference_models() -> Iterator[Path]:
    """A ComfyUI-style models folder holding all reference flow files of the fixtures' section 11 (Flux dev /
    schnell, SD3 checkpoint and parts, CLIP-L, CLIP-G, T5-XXL fp8, the 16-channel VAE): `KILN_FLOW_REF` when
    it holds them all at their recorded sizes, else built once per session with `make_flow_checkpoints.py`
    (about 2 minutes, 10.5 GB) into a temporary folder deleted afterwards."""
    files = _flow_reference_files()

    def complete(folder: Path) -> bool:
        return all((folder / path).is_file() and (folder / path).stat().st_size == size
                   for path, size in files.values())

    cached = os.environ.get("KILN_FLOW_REF")
    if cached and complete(Path(cached)):
        yield Path(cached)
        return
    folder = Path(tempfile.mkdtemp(prefix="kiln_flow_ref_"))
    try:
        subprocess.run([sys.executable, str(FIXTURES / "make_flow_checkpoints.py"), "all", str(folder)],
                       check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True)
        assert complete(folder), "make_flow_checkpoints.py did not produce every reference flow file"
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
