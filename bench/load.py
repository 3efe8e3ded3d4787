"""Load test on loopback: many WebSocket clients submit cheap prompts at once; check every message, time the lot.

    OMP_NUM_THREADS=1 python bench/load.py [--clients 50] [--prompts 500] [--url http://127.0.0.1:8188]

Without `--url` it starts its own `python main.py` on a free port with a temporary base directory and the test
custom nodes (tests/e2e/custom_nodes), as the end-to-end tests do. Each client opens `/ws?clientId=<its id>`;
once all are connected, every client POSTs its share of the prompts to /prompt back to back, with its own
`client_id`. Each prompt is KilnTestInt -> KilnTestIntAdd -> KilnTestIntOutput with inputs no other prompt has,
so nothing is served from the cache (the checks accept cached nodes all the same).

Checked, per client and prompt: POST /prompt answers 200 (no 5xx anywhere); the prompt's messages are
`execution_start`, `execution_cached`, an `executing` for every node not cached, one `executed` for the output node
carrying the right sum, `execution_success`, and last `executing {node: null}`; no message names another client's
prompt. Timed: throughput (prompts / seconds from the first submit to the last completion) and the latency from a
prompt's submit to its `executing {node: null}` at its client. Exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_CUSTOM_NODES = REPO_ROOT / "tests" / "e2e" / "custom_nodes"
OUTPUT_NODE = "3"
PROMPT_NODES = {"1", "2", OUTPUT_NODE}
STARTUP_TIMEOUT_SECONDS = 60.0


# ---------------------------------------------------------------------------------------------------------------
# The server under test


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def kiln_server(server_args: list[str]) -> Iterator[str]:
    """A `python main.py` process on a free loopback port with a temporary base directory and the test custom
    nodes; yields its URL and stops it afterwards (its output is printed if it fails to start)."""
    with tempfile.TemporaryDirectory(prefix="kiln-load-") as base_dir:
        port = _free_port()
        yaml_path = Path(base_dir) / "extra_model_paths.yaml"
        yaml_path.write_text(f"kiln_load:\n    custom_nodes: {TEST_CUSTOM_NODES}\n", encoding="utf-8")
        log_path = Path(base_dir) / "server.log"
        command = [sys.executable, "main.py", "--port", str(port), "--listen", "127.0.0.1", "--base-directory",
                   base_dir, "--extra-model-paths-config", str(yaml_path), *server_args]
        environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(process, url, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/system_stats", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    log = log_path.read_text(encoding="utf-8", errors="replace")
    raise RuntimeError(f"the Kiln server did not start (exit code {process.poll()}):\n{log[-4000:]}")


# ---------------------------------------------------------------------------------------------------------------
# Clients


def make_prompt(a: int, b: int) -> dict:
    """KilnTestInt(a) -> KilnTestIntAdd(+ b) -> KilnTestIntOutput, which shows a + b."""
    return {
        "1": {"class_type": "KilnTestInt", "inputs": {"value": a}},
        "2": {"class_type": "KilnTestIntAdd", "inputs": {"a": ["1", 0], "b": b}},
        OUTPUT_NODE: {"class_type": "KilnTestIntOutput", "inputs": {"value": ["2", 0]}},
    }


@dataclass
class Submission:
    prompt_id: str | None
    expected: int
    submitted_at: float  # perf_counter() just before the POST
    status: int = 0  # HTTP status of POST /prompt (0: no answer)
    answered_at: float = 0.0


@dataclass
class ClientRun:
    """One client's side of the run: what it submitted and every JSON message its socket received."""

    client_id: str
    submissions: list[Submission] = field(default_factory=list)
    messages: list[tuple[float, dict]] = field(default_factory=list)  # (perf_counter() at arrival, message)
    done_at: dict[str, float] = field(default_factory=dict)  # prompt_id -> arrival of `executing {node: null}`
    errors: list[str] = field(default_factory=list)


class LoadClient:
    """A ComfyUI API client: one session and one socket, submitting prompts without waiting for them."""

    def __init__(self, url: str, run: ClientRun) -> None:
        self.url = url
        self.run = run
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task | None = None
        self.progress = asyncio.Event()

    async def connect(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300))
        self.ws = await self.session.ws_connect(f"{self.url}/ws", params={"clientId": self.run.client_id},
                                                max_msg_size=0)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            arrived = time.perf_counter()
            message = json.loads(frame.data)
            self.run.messages.append((arrived, message))
            data = message.get("data") or {}
            if message.get("type") == "executing" and data.get("node") is None and data.get("prompt_id"):
                self.run.done_at.setdefault(data["prompt_id"], arrived)
                self.progress.set()

    async def submit(self, a: int, b: int) -> None:
        assert self.session is not None
        submission = Submission(prompt_id=None, expected=a + b, submitted_at=time.perf_counter())
        self.run.submissions.append(submission)
        body = {"prompt": make_prompt(a, b), "client_id": self.run.client_id}
        try:
            async with self.session.post(f"{self.url}/prompt", json=body) as response:
                submission.status = response.status
                answer = await response.read()
        except aiohttp.ClientError as error:
            self.run.errors.append(f"POST /prompt failed: {error!r}")
            return
        submission.answered_at = time.perf_counter()
        if submission.status == 200:
            submission.prompt_id = json.loads(answer)["prompt_id"]
        else:
            self.run.errors.append(f"POST /prompt answered {submission.status}: {answer[:300]!r}")

    async def wait_all_done(self, deadline: float) -> None:
        """Until every accepted prompt has its `executing {node: null}`, or `deadline` (perf_counter) passes."""
        while True:
            pending = [s.prompt_id for s in self.run.submissions if s.prompt_id and s.prompt_id not in self.run.done_at]
            if not pending:
                return
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                self.run.errors.append(f"{len(pending)} prompts never finished, e.g. {pending[0]}")
                return
            self.progress.clear()
            try:
                await asyncio.wait_for(self.progress.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            try:
                await self.reader
            except Exception:  # the socket went away: its messages so far are what we check
                pass
        if self.session is not None:
            await self.session.close()


# ---------------------------------------------------------------------------------------------------------------
# Checks


def check_client(run: ClientRun) -> list[str]:
    """Every way this client's messages differ from a complete, private sequence per prompt."""
    problems = list(run.errors)
    own = {s.prompt_id: s for s in run.submissions if s.prompt_id}
    by_prompt: dict[str, list[dict]] = {prompt_id: [] for prompt_id in own}
    for _, message in run.messages:
        data = message.get("data")
        prompt_id = data.get("prompt_id") if isinstance(data, dict) else None
        if prompt_id is None:
            continue
        if prompt_id not in own:
            problems.append(f"client {run.client_id} got {message['type']} of another client's prompt {prompt_id}")
            continue
        by_prompt[prompt_id].append(message)
    for prompt_id, messages in by_prompt.items():
        problems.extend(f"client {run.client_id} prompt {prompt_id}: {problem}"
                        for problem in check_sequence(messages, own[prompt_id].expected))
    return problems


def check_sequence(messages: list[dict], expected: int) -> list[str]:
    """What is wrong with one prompt's messages (in arrival order), given the sum its output node must show."""
    types = [message["type"] for message in messages]
    if not messages:
        return ["no messages"]
    problems = []
    if types[0] != "execution_start":
        problems.append(f"starts with {types[0]}, not execution_start")
    last = messages[-1]
    if last["type"] != "executing" or last["data"].get("node") is not None:
        problems.append(f"ends with {last['type']} {last['data']}, not executing {{node: null}}")
    for bad in ("execution_error", "execution_interrupted"):
        if bad in types:
            problems.append(f"has {bad}")
    if types.count("execution_success") != 1 or types.count("execution_cached") != 1:
        problems.append(f"has {types.count('execution_success')} execution_success and "
                        f"{types.count('execution_cached')} execution_cached messages, not one each")
        return problems
    cached_at = types.index("execution_cached")
    cached = set(messages[cached_at]["data"]["nodes"])
    ran = [message["data"]["node"] for message in messages
           if message["type"] == "executing" and message["data"].get("node") is not None]
    first_run = next((index for index, message in enumerate(messages)
                      if message["type"] == "executing" and message["data"].get("node") is not None), None)
    if first_run is not None and first_run < cached_at:
        problems.append("a node ran before execution_cached")
    if len(ran) != len(set(ran)) or set(ran) & cached or set(ran) | cached != PROMPT_NODES:
        problems.append(f"nodes run {ran} and cached {sorted(cached)} do not cover {sorted(PROMPT_NODES)} once")
    executed = [message["data"] for message in messages if message["type"] == "executed"]
    if [data["node"] for data in executed] != [OUTPUT_NODE]:
        problems.append(f"executed for {[data['node'] for data in executed]}, not for the output node only")
    elif executed[0].get("output") != {"value": [expected]}:
        problems.append(f"output {executed[0].get('output')}, expected {{'value': [{expected}]}}")
    if types.index("execution_success") > len(types) - 2:
        problems.append("execution_success is not before the final executing")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# The run


@dataclass
class LoadReport:
    clients: int
    prompts: int
    accepted: int
    completed: int
    server_errors: int  # HTTP 5xx answers
    seconds: float  # first submit to last completion
    throughput: float  # completed prompts per second
    latency_p50_ms: float  # submit -> the client's `executing {node: null}`
    latency_p99_ms: float
    submit_p50_ms: float  # POST /prompt round trip
    submit_p99_ms: float
    messages: int
    queue_remaining_after: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def run_load(url: str, clients: int, prompts: int, timeout: float = 300.0) -> LoadReport:
    """Connect `clients` sockets, submit `prompts` prompts spread over them all at once, wait, check, measure."""
    runs = [ClientRun(client_id=f"load-{index}-{uuid.uuid4().hex[:8]}") for index in range(clients)]
    load_clients = [LoadClient(url, run) for run in runs]
    await asyncio.gather(*(client.connect() for client in load_clients))
    base = time.time_ns() % 1_000_000_007  # inputs no earlier run on a long-lived server used
    shares = [list(range(index, prompts, clients)) for index in range(clients)]

    async def submit_share(client: LoadClient, share: list[int]) -> None:
        for number in share:
            await client.submit(base + number, number + 1)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(submit_share(client, share) for client, share in zip(load_clients, shares, strict=True)))
        deadline = time.perf_counter() + timeout
        await asyncio.gather(*(client.wait_all_done(deadline) for client in load_clients))
        async with aiohttp.ClientSession() as session, session.get(f"{url}/prompt") as response:
            queue_remaining = (await response.json())["exec_info"]["queue_remaining"]
    finally:
        await asyncio.gather(*(client.close() for client in load_clients))

    submissions = [s for run in runs for s in run.submissions]
    done_at = {prompt_id: at for run in runs for prompt_id, at in run.done_at.items()}
    finished = [s for s in submissions if s.prompt_id in done_at]
    latencies = [(done_at[s.prompt_id] - s.submitted_at) * 1000 for s in finished]
    submit_times = [(s.answered_at - s.submitted_at) * 1000 for s in submissions if s.answered_at]
    seconds = max((done_at[s.prompt_id] for s in finished), default=started) - started
    problems = [problem for run in runs for problem in check_client(run)]
    if len(finished) != prompts:
        problems.append(f"{len(finished)} of {prompts} prompts completed")
    return LoadReport(
        clients=clients, prompts=prompts, accepted=sum(1 for s in submissions if s.status == 200),
        completed=len(finished), server_errors=sum(1 for s in submissions if s.status >= 500),
        seconds=seconds, throughput=len(finished) / seconds if seconds > 0 else 0.0,
        latency_p50_ms=percentile(latencies, 0.50), latency_p99_ms=percentile(latencies, 0.99),
        submit_p50_ms=percentile(submit_times, 0.50), submit_p99_ms=percentile(submit_times, 0.99),
        messages=sum(len(run.messages) for run in runs), queue_remaining_after=queue_remaining, problems=problems)


def print_report(report: LoadReport, url: str) -> None:
    rows = [
        ("server", url),
        ("clients x prompts", f"{report.clients} x {report.prompts} (3 cheap nodes each, distinct inputs)"),
        ("accepted / completed", f"{report.accepted} / {report.completed}"),
        ("HTTP 5xx", str(report.server_errors)),
        ("wall time", f"{report.seconds:.2f} s (first submit to last completion)"),
        ("throughput", f"{report.throughput:.1f} prompts/s"),
        ("submit -> done p50", f"{report.latency_p50_ms:.0f} ms"),
        ("submit -> done p99", f"{report.latency_p99_ms:.0f} ms"),
        ("POST /prompt p50 / p99", f"{report.submit_p50_ms:.1f} / {report.submit_p99_ms:.1f} ms"),
        ("WS messages received", str(report.messages)),
        ("queue left afterwards", str(report.queue_remaining_after)),
        ("check failures", str(len(report.problems))),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for problem in report.problems[:20]:
        print(f"  FAIL {problem}")
    if len(report.problems) > 20:
        print(f"  ... and {len(report.problems) - 20} more")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="WebSocket clients (default 50)")
    parser.add_argument("--prompts", type=int, default=500, help="prompts in all, spread over the clients")
    parser.add_argument("--url", help="a running Kiln/ComfyUI server with the test custom nodes loaded "
                                      "(default: start one)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the prompts to finish")
    parser.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                        help="an extra flag for the started server (repeatable), e.g. --server-arg=--store-sync=normal")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON to PATH")
    options = parser.parse_args(argv)
    if options.clients < 1 or options.prompts < 1:
        parser.error("--clients and --prompts must be at least 1")

    def measure(url: str) -> LoadReport:
        report = asyncio.run(run_load(url, options.clients, options.prompts, options.timeout))
        print_report(report, url)
        return report

    if options.url:
        report = measure(options.url.rstrip("/"))
    else:
        with kiln_server(options.server_arg) as url:
            report = measure(url)
    if options.json:
        Path(options.json).write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2), encoding="utf-8")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
