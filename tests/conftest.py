"""Test-wide settings and shared fixtures.

One CPU thread (this machine has two cores and the end-to-end tests run a server beside pytest), and ComfyUI's
reproducible random SD1.5 reference checkpoint, built once per session for the tests that compare with
ComfyUI's recorded numbers.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

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
