"""Fixtures of the end-to-end suite: a real `python main.py` server process, and connected clients.

The server runs from the repository root with its own base directory and an extra_model_paths yaml whose
`custom_nodes` entry points at `tests/e2e/custom_nodes` (the kiln-test-nodes package), as a user's would.
One server serves the whole session; a module that needs other flags overrides the `server` fixture with
`start_server(...)`. When a test fails, the tail of the server's output is attached to its report.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import pytest_asyncio

from .client import KilnClient

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_CUSTOM_NODES = Path(__file__).resolve().parent / "custom_nodes"
STARTUP_TIMEOUT_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class KilnServer:
    """One `python main.py` process on a free port, with its base directory and captured output."""

    def __init__(self, base_dir: Path, extra_args: list[str], custom_nodes_dirs: list[Path] | None = None):
        self.base_dir = base_dir
        self.custom_nodes_dirs = custom_nodes_dirs or [TEST_CUSTOM_NODES]
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args
        self.log_path = base_dir / "server.log"
        self.yaml_path = base_dir / "extra_model_paths.yaml"
        self.process: subprocess.Popen | None = None
        # what the start-up poll GETs until it answers 200 (a server started with --api-key needs ?token=KEY)
        self.ready_path = "/system_stats"

    @property
    def output_dir(self) -> Path:
        return self.base_dir / "output"

    @property
    def input_dir(self) -> Path:
        return self.base_dir / "input"

    @property
    def temp_dir(self) -> Path:
        return self.base_dir / "temp"

    def start(self) -> None:
        if not (REPO_ROOT / "main.py").exists():
            pytest.fail(f"{REPO_ROOT / 'main.py'} does not exist yet: there is no server to test")
        folders = "".join(f"        {folder}\n" for folder in self.custom_nodes_dirs)
        self.yaml_path.write_text(f"kiln_e2e:\n    custom_nodes: |\n{folders}", encoding="utf-8")
        command = [sys.executable, "main.py", "--port", str(self.port), "--listen", "127.0.0.1",
                   "--base-directory", str(self.base_dir), "--extra-model-paths-config", str(self.yaml_path),
                   *self.extra_args]
        environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with code {self.process.returncode} during startup:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"GET {self.ready_path} did not answer 200 within {STARTUP_TIMEOUT_SECONDS:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self, last_lines: int = 150) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return "(no server output)"
        return "\n".join(lines[-last_lines:])


def start_server(tmp_path_factory: pytest.TempPathFactory, name: str, extra_args: list[str] | None = None,
                 custom_nodes_dirs: list[Path] | None = None) -> KilnServer:
    """Start a server with a fresh base directory (custom nodes from `custom_nodes_dirs`, by default the test
    packs' folder); the caller stops it."""
    server = KilnServer(tmp_path_factory.mktemp(name), extra_args or [], custom_nodes_dirs)
    server.start()
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilnServer]:
    """The shared server, started with default flags."""
    kiln = start_server(tmp_path_factory, "kiln-server")
    yield kiln
    kiln.stop()


@pytest.fixture(scope="session")
def flow_server(tmp_path_factory: pytest.TempPathFactory, flow_reference_models: Path) -> Iterator[KilnServer]:
    """One server for the flow families' recorded replays (SD3 and FLUX.1: plain runs, guidance, LoRAs), its
    model folders linking every reference flow file under its recorded name; each module adds the files it builds
    (guidance nets, LoRAs) to `base_dir` and asks for the server through `running()`. It caches by RAM pressure
    (`--cache-ram`), so an encoding made for one module is reused by the next: every FLUX.1 case encodes its
    prompt through the full-size T5-XXL, about a minute on one CPU thread."""
    base = tmp_path_factory.mktemp("kiln-flow")
    for source in flow_reference_models.glob("*/*.safetensors"):
        target = base / "models" / source.parent.name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source)
    kiln = KilnServer(base, ["--cache-ram", "6"])
    kiln.start()
    _SHARED_SERVERS["flow_server"] = kiln
    yield kiln
    kiln.stop()


@pytest.fixture(scope="session")
def reference_server(tmp_path_factory: pytest.TempPathFactory, reference_checkpoint: Path) -> Iterator[KilnServer]:
    """One server for the modules that replay ComfyUI's runs on the reference SD1.5 checkpoint (linked in its
    checkpoints folder under its recorded name, ref-sd15.safetensors): test_reference_*.py, named to run one after
    another, load it once."""
    base = tmp_path_factory.mktemp("kiln-reference")
    checkpoints = base / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "ref-sd15.safetensors").symlink_to(reference_checkpoint)
    kiln = KilnServer(base, [])
    kiln.start()
    _SHARED_SERVERS["reference_server"] = kiln
    yield kiln
    kiln.stop()


@contextmanager
def added_files_removed(folder: Path) -> Iterator[None]:
    """The files and links a module adds under a shared server's `folder` are deleted when the block ends (the
    module's tests are done): the flow modules add GBs of nets and a 4.7 GB T5 that no later module needs."""
    before = {path for path in folder.rglob("*") if path.is_file() or path.is_symlink()}
    try:
        yield
    finally:
        for path in folder.rglob("*"):
            if (path.is_file() or path.is_symlink()) and path not in before:
                path.unlink(missing_ok=True)


# session servers by fixture name, stopped after the last test of a run of tests that use them
_SHARED_SERVERS: dict[str, KilnServer] = {}


def running(kiln: KilnServer) -> KilnServer:
    """`kiln`, started again if it was stopped (see `pytest_runtest_teardown`)."""
    if not kiln.is_alive():
        kiln.start()
    return kiln


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop a shared session server after the last test of a run of tests that use it: it holds GBs of models and
    cached results that the rest of the suite should not have to share the machine with."""
    for name, kiln in _SHARED_SERVERS.items():
        if name in item.fixturenames and (nextitem is None or name not in nextitem.fixturenames):
            kiln.stop()


@pytest_asyncio.fixture
async def client(server: KilnServer) -> AsyncIterator[KilnClient]:
    """A client with its WebSocket open (the initial `status` already received)."""
    async with KilnClient(server.url) as kiln_client:
        await kiln_client.connect()
        yield kiln_client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, KilnServer):
            state = "running" if value.is_alive() else f"exited with {value.process.returncode}"
            report.sections.append((f"kiln server output ({state}, last lines)", value.log(60)))
