"""The oracle (ComfyUI 0.3.64, ../shared/reference/oracle.md) as a server for the recorders in this folder: started
on a free port with a scratch folder's output/temp (and, where given, input) folders and an extra_model_paths.yaml
naming the model folders, stopped afterwards; and the few requests the recorders make of it. Standard library,
numpy and safetensors."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from record_loader_nodes import download
from safetensors.numpy import load as load_safetensors_bytes


def free_port() -> int:
    for port in range(18400, 18500):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 18400-18499")


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the oracle exited with {process.returncode} during start-up")
        try:
            with urllib.request.urlopen(f"{url}/system_stats", timeout=10):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def running_oracle(oracle: Path, scratch: Path, model_folders: Mapping[str, str], base_path: Path | None = None,
                   input_dir: Path | None = None) -> Iterator[str]:
    """The oracle's URL while it runs: `model_folders` ({"checkpoints": "checkpoints", ...}) relative to
    `base_path` (default `scratch`); outputs, temp files and its log (oracle.log) under `scratch`."""
    yaml_path = scratch / "extra_model_paths.yaml"
    folders = "".join(f"    {kind}: {folder}\n" for kind, folder in model_folders.items())
    yaml_path.write_text(f"kiln:\n    base_path: {base_path or scratch}\n{folders}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(oracle / "venv" / "bin" / "python"), "main.py", "--cpu", "--listen", "127.0.0.1", "--port",
               str(port), "--disable-auto-launch", "--output-directory", str(scratch / "output"),
               "--temp-directory", str(scratch / "temp"), "--extra-model-paths-config", str(yaml_path)]
    if input_dir is not None:
        command += ["--input-directory", str(input_dir)]
    with open(scratch / "oracle.log", "ab") as log:  # a recorder may start it more than once
        process = subprocess.Popen(command, cwd=oracle / "ComfyUI", stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def object_info(url: str, names: tuple[str, ...] | list[str]) -> dict:
    """The oracle's /object_info entries of `names`."""
    with urllib.request.urlopen(f"{url}/object_info", timeout=60) as response:
        everything = json.load(response)
    return {name: everything[name] for name in names}


def saved_latents(url: str, outputs: dict, cases: Mapping[str, str]) -> dict[str, np.ndarray]:
    """{case: the latent its SaveLatent node (`cases[case]`) saved} from a finished prompt's outputs."""
    return {case: load_safetensors_bytes(download(url, outputs[node]["latents"][0]))["latent_tensor"]
            for case, node in cases.items()}


def reference_scratch(scratch: Path, checkpoint: Path) -> dict[str, str]:
    """`scratch`/checkpoints holding the reference SD1.5 as ref-sd15.safetensors; the model folders to name."""
    (scratch / "checkpoints").mkdir(exist_ok=True)
    (scratch / "checkpoints" / "ref-sd15.safetensors").symlink_to(checkpoint.resolve())
    return {"checkpoints": "checkpoints"}


def record_families(url: str, families: Mapping[str, tuple[dict, dict[str, str]]]) -> tuple[dict, dict]:
    """Run each family's prompt on the oracle: ({case: latent}, {family: {"workflow", "cases"}})."""
    from record_loader_nodes import run

    latents, recorded = {}, {}
    for family, (workflow, cases) in families.items():
        started = time.monotonic()
        latents.update(saved_latents(url, run(url, workflow), cases))
        for case in cases:
            print(f"{family}/{case}: shape {latents[case].shape}, max |x| {abs(latents[case]).max():.4g}")
        recorded[family] = {"workflow": workflow, "cases": cases}
        print(f"{family}: {time.monotonic() - started:.1f} s")
    return latents, recorded


def write_recording(out: Path, latents: Mapping[str, np.ndarray], workflows: dict, info: dict,
                    latents_name: str = "latents.safetensors", workflows_name: str = "workflows.json") -> None:
    """A fixture folder: the latents (safetensors), the workflows and the /object_info entries (JSON)."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    for case, latent in latents.items():
        print(case, latent.shape, float(abs(latent).max()))
    save_file(dict(latents), str(out / latents_name))
    (out / workflows_name).write_text(json.dumps(workflows, indent=1) + "\n")
    (out / "object_info.json").write_text(json.dumps(info, indent=1) + "\n")


def record_reference_families(oracle: Path, checkpoint: Path, families: Mapping[str, tuple[dict, dict[str, str]]],
                              nodes: tuple[str, ...] | list[str], out: Path) -> None:
    """Run `families` on the oracle with the reference SD1.5 and write the fixture folder `out`."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kiln-record-") as scratch:
        with running_oracle(oracle, Path(scratch), reference_scratch(Path(scratch), checkpoint)) as url:
            info = object_info(url, nodes)
            latents, recorded = record_families(url, families)
    write_recording(out, latents, recorded, info)


def reference_main(record, description: str) -> None:
    """A recorder's command line: --oracle (ComfyUI/ and venv/) and --checkpoint (the reference SD1.5)."""
    import argparse

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oracle", type=Path, required=True, help="the oracle folder (ComfyUI/ and venv/)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="the reference SD1.5 checkpoint")
    options = parser.parse_args()
    record(options.oracle, options.checkpoint)


def flow_main(record, description: str) -> None:
    """A flow recorder's command line: --oracle (ComfyUI/ and venv/) and --flow (the reference flow files' models
    folder, KILN_FLOW_REF)."""
    import argparse

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oracle", type=Path, required=True, help="the oracle folder (ComfyUI/ and venv/)")
    parser.add_argument("--flow", type=Path, required=True, help="the reference flow files' models folder")
    options = parser.parse_args()
    record(options.oracle, options.flow)
