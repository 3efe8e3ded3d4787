"""Start-up stays quick: loading every built-in node imports neither diffusers nor transformers (seconds each);
they are imported when a model is first loaded, or on a background thread (comfy/warm_up.py)."""

import ast
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def modules_imported_by(script: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` a fresh interpreter has imported after running `script`."""
    check = f"; print(sorted(name for name in {names!r} if name in sys.modules))"
    result = subprocess.run([sys.executable, "-c", "import sys; " + script + check], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True,
                            env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def test_loading_the_built_in_nodes_does_not_import_the_model_libraries():
    script = "import nodes; from comfy_execution.node_loading import init_builtin_extra_nodes; init_builtin_extra_nodes()"
    assert modules_imported_by(script, ("diffusers", "transformers", "scipy")) == []


def test_the_background_warm_up_imports_the_model_library():
    script = "from comfy.warm_up import import_model_library_in_background; import_model_library_in_background().join()"
    assert modules_imported_by(script, ("comfy.sd", "diffusers", "transformers")) == ["comfy.sd", "diffusers",
                                                                                     "transformers"]


def test_a_server_without_ray_never_imports_ray(tmp_path):
    script = ("import runpy; sys.argv = ['main.py', '--quick-test-for-ci', '--base-directory', "
              f"{str(tmp_path)!r}]\ntry:\n    runpy.run_path('main.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
              "from comfy_execution.distributed import affinity, transfer, worker")
    assert modules_imported_by(script, ("ray", "comfy_execution.distributed.worker")) == [
        "comfy_execution.distributed.worker"]
