"""Start-up stays quick: loading every built-in node imports neither diffusers nor transformers (seconds each);
they are imported when a model is first loaded."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_built_in_nodes_does_not_import_the_model_libraries():
    script = ("import sys, nodes; from comfy_execution.node_loading import init_builtin_extra_nodes; "
              "init_builtin_extra_nodes(); "
              "print(sorted(name for name in ('diffusers', 'transformers', 'scipy') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_the_background_warm_up_imports_the_model_library():
    script = ("import sys; from comfy.warm_up import import_model_library_in_background; "
              "import_model_library_in_background().join(); "
              "print(sorted(name for name in ('comfy.sd', 'diffusers', 'transformers') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip().splitlines()[-1] == "['comfy.sd', 'diffusers', 'transformers']", result.stderr
