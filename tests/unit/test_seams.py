"""The layering the runner seam keeps: nothing under `comfy_execution/` imports the server or the route modules;
`main.py`, `main.py run` and the Ray worker run prompts through one path (`PromptExecutor.execute`), none of them
handling engine failures or writing the executor's results itself; `PromptServer.instance` falls back to the
stand-in a server-less process installs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_LAYER = ("server", "app", "main", "cli_run")
RESULT_ATTRIBUTES = {"success", "status_messages", "history_result"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the file, at any depth (inside functions, TYPE_CHECKING...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_nothing_under_comfy_execution_imports_the_server_or_the_routes():
    offenders = [f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
                 for path in sorted((REPO_ROOT / "comfy_execution").rglob("*.py"))
                 for line, module in imported_modules(path) if module.split(".")[0] in SERVER_LAYER]
    assert offenders == []


def _tree(relative: str) -> ast.Module:
    return ast.parse((REPO_ROOT / relative).read_text(encoding="utf-8"))


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        or (isinstance(node.func, ast.Name) and node.func.id == name))]


def test_main_main_py_run_and_the_ray_worker_share_one_run_path():
    drivers = {"main.py": "comfy_execution/runner.py", "cli_run.py": "cli_run.py",
               "the Ray worker": "comfy_execution/distributed/worker.py"}
    for driver, relative in drivers.items():
        tree = _tree(relative)
        assert _calls(tree, "execute"), f"{driver} runs prompts through PromptExecutor.execute"
        written = [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                   and isinstance(node.ctx, ast.Store) and node.attr in RESULT_ATTRIBUTES]
        assert written == [], f"{driver} writes the executor's results ({written})"
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        assert "engine_error" not in names, f"{driver} shapes engine failures itself"
    main = _tree("main.py")
    assert _calls(main, "LocalRunner") and _calls(main, "start_ray_runner"), "main.py builds one of the two runners"
    assert not _calls(main, "execute"), "main.py runs prompts through its runner only"
    assert all(not call.args for call in _calls(main, "PromptQueue")), "main.py's queue is not given the server"


def _run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}, timeout=120)


def test_prompt_server_instance_is_the_installed_stand_in_where_no_server_runs():
    script = """
from server import PromptServer
try:
    PromptServer.instance
except AttributeError:
    print("no instance before a server or a stand-in")
from comfy_execution.server_stand_in import ServerStandIn, install_server_stand_in
class Sink:
    client_id = "c"
    last_node_id = None
    last_prompt_id = None
    def __init__(self):
        self.sent = []
    def send_sync(self, event, data, sid=None):
        self.sent.append((event, data, sid))
    def client_supports(self, sid, feature):
        return True
sink = Sink()
stand_in = install_server_stand_in(sink)
instance = PromptServer.instance
assert instance is stand_in and type(instance) is ServerStandIn and not isinstance(instance, PromptServer)
handler = lambda request: None
assert instance.routes.post("/x")(handler) is handler and list(instance.routes) == []
instance.send_sync("custom", {"n": 1}, instance.client_id)
instance.send_progress_text("hi", "7", "c")
assert sink.sent[0] == ("custom", {"n": 1}, "c") and sink.sent[1][0] == 3
assert instance.client_supports("c", "supports_preview_metadata") and instance.prompt_queue is None
import asyncio
server = PromptServer(asyncio.new_event_loop())
assert PromptServer.instance is server, "a real server takes over"
print("ok")
"""
    result = _run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["no instance before a server or a stand-in", "ok"]
