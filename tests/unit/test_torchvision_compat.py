"""comfy/torchvision_compat.py: a torchvision whose compiled operators do not load (a CUDA wheel beside the CPU
torch) still imports once `comfy` is imported, without torch being imported at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# What torchvision 0.28 does at import that fails without its operator library, in miniature.
FAKE_TORCHVISION = '''
import torch
@torch.library.register_fake("torchvision::nms")
def _nms(dets, scores, iou_threshold):
    return dets.new_empty((0,), dtype=torch.long)
LOADED = True
'''


def _run(script: str, fake_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": f"{fake_dir}:{REPO_ROOT}", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})


def _fake_torchvision(tmp_path: Path) -> Path:
    package = tmp_path / "torchvision"
    package.mkdir()
    (package / "__init__.py").write_text(FAKE_TORCHVISION)
    (package / "_C.so").write_bytes(b"not a shared library")
    return tmp_path


def test_without_the_hook_such_a_torchvision_fails_to_import(tmp_path):
    result = _run("import torchvision", _fake_torchvision(tmp_path))
    assert result.returncode != 0 and "torchvision::nms" in result.stderr


def test_importing_comfy_first_makes_it_importable_without_importing_torch_early(tmp_path):
    script = ("import sys, comfy; assert 'torch' not in sys.modules; import torchvision; assert torchvision.LOADED; "
              "import torch; print(torch._C._dispatch_has_kernel_for_dispatch_key('torchvision::nms', 'CPU'))")
    result = _run(script, _fake_torchvision(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # the schema exists; calling nms has no CPU kernel

