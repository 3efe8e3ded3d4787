"""Scale-out on Ray: the same workloads through one process and through 1 and 2 Ray workers, side by side.

    OMP_NUM_THREADS=1 python bench/scaleout.py [--jobs 16] [--steps 8] [--size 128] [--trivial 200]

For each mode (`single`: the embedded worker thread; `ray:1`, `ray:2`: `--ray local:N`) it starts its own server
(bench/load.py's `kiln_server`) and, once every worker is ready, runs:
- **CPU-bound**: `--jobs` text-to-image prompts on a tiny generated SD1 checkpoint (`--size`², `--steps` Euler steps,
  a different seed each, so every job samples), after one warm-up job that loads the model. Throughput is jobs
  per second from the first submit to the last `executing {node: null}`.
- **Dispatch overhead**: `--trivial` three-node integer prompts (bench/load.py's, from 10 clients), whose
  run time is next to nothing: the time per job is what the server, the queue and (with Ray) the dispatch cost.

Printed: jobs/s per mode and the ratios ray:2 / ray:1 and ray:1 / single, and per-job time of the trivial prompts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.load import kiln_server, run_load  # noqa: E402

CHECKPOINT = "scaleout-tiny-sd15.safetensors"
MODES = {"single": [], "ray:1": ["--ray", "local:1"], "ray:2": ["--ray", "local:2"]}
READY_TIMEOUT_SECONDS = 180.0


def txt2img(seed: int, steps: int, size: int) -> dict:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CHECKPOINT}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red circle", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": steps, "cfg": 5.0, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "scaleout"}},
    }


def wait_for_workers(url: str, count: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/system_stats", timeout=5) as response:
            workers = json.load(response).get("workers")
        if workers is None or sum(worker["alive"] for worker in workers) >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{count} Ray worker(s) were not ready within {READY_TIMEOUT_SECONDS:.0f} s")


async def run_jobs(url: str, prompts: list[dict]) -> float:
    """Submit every prompt from one client and wait for all of them; seconds from the first submit to the end."""
    client_id = uuid.uuid4().hex
    async with aiohttp.ClientSession() as session, session.ws_connect(
            f"{url}/ws", params={"clientId": client_id}, max_msg_size=0) as ws:
        started = time.perf_counter()
        waiting = set()
        for prompt in prompts:
            async with session.post(f"{url}/prompt", json={"prompt": prompt, "client_id": client_id}) as answer:
                body = await answer.json()
                if answer.status != 200:
                    raise RuntimeError(f"POST /prompt answered {answer.status}: {body}")
                waiting.add(body["prompt_id"])
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            data = message.get("data") or {}
            if message["type"] == "execution_error":
                raise RuntimeError(f"a job failed: {data.get('exception_message')}")
            if message["type"] == "executing" and data.get("node") is None:
                waiting.discard(data.get("prompt_id"))
                if not waiting:
                    return time.perf_counter() - started
    raise RuntimeError("the WebSocket closed before every job finished")


def measure(mode: str, server_args: list[str], args: argparse.Namespace) -> dict[str, float]:
    with kiln_server(server_args) as url:
        workers = int(mode.split(":")[1]) if mode.startswith("ray:") else 0
        if workers:
            wait_for_workers(url, workers)
        # Warm-up: every worker loads the model once (jobs go to free workers, so 2 x workers covers them).
        asyncio.run(run_jobs(url, [txt2img(10**6 + index, args.steps, args.size) for index in range(max(workers, 1) * 2)]))
        seconds = asyncio.run(run_jobs(url, [txt2img(seed, args.steps, args.size) for seed in range(args.jobs)]))
        trivial = asyncio.run(run_load(url, clients=10, prompts=args.trivial))
        if trivial.problems or trivial.completed != args.trivial:
            raise RuntimeError(f"trivial prompts failed their checks: {trivial.problems[:3]}")
    return {"jobs_per_second": args.jobs / seconds, "seconds": seconds,
            "trivial_ms_per_job": 1000 / trivial.throughput}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--trivial", type=int, default=200)
    parser.add_argument("--modes", default=",".join(MODES), help="which of single, ray:1, ray:2 to run")
    args = parser.parse_args(argv)

    from tests.model_factory import write_tiny_checkpoint

    with tempfile.TemporaryDirectory(prefix="kiln-scaleout-") as models:
        write_tiny_checkpoint(Path(models) / CHECKPOINT, "SD15", 0)
        yaml_path = Path(models) / "checkpoints.yaml"
        yaml_path.write_text(f"scaleout:\n    checkpoints: {models}\n", encoding="utf-8")
        results = {}
        for mode in args.modes.split(","):
            results[mode] = measure(mode, [*MODES[mode], "--extra-model-paths-config", str(yaml_path)], args)
            print(f"{mode:>7}: {results[mode]['jobs_per_second']:.2f} jobs/s ({args.jobs} jobs in "
                  f"{results[mode]['seconds']:.1f} s); trivial prompts {results[mode]['trivial_ms_per_job']:.1f} ms/job",
                  flush=True)
    if "ray:1" in results and "ray:2" in results:
        print(f"ray:2 / ray:1 throughput: {results['ray:2']['jobs_per_second'] / results['ray:1']['jobs_per_second']:.2f}x")
    if "single" in results and "ray:1" in results:
        single, ray_one = results["single"], results["ray:1"]
        print(f"ray:1 / single throughput: {ray_one['jobs_per_second'] / single['jobs_per_second']:.2f}x; "
              f"dispatch overhead per CPU-bound job: {1000 * (ray_one['seconds'] - single['seconds']) / args.jobs:.0f} ms; "
              f"per trivial job: {ray_one['trivial_ms_per_job'] - single['trivial_ms_per_job']:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
