"""Shared pieces of the guided-generation end-to-end tests (`tests/fixtures/comfyui_guidance`): building the
random guidance files a batch of recorded runs needs, a server whose model folders hold them beside the reference
files, and replaying one recorded case."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.numpy import load as load_safetensors_bytes
from safetensors.numpy import load_file

from .client import KilnClient
from .conftest import KilnServer
from .recorded_runs import replay_and_compare

GUIDANCE = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_guidance"


def recorded(case: str) -> dict:
    return json.loads((GUIDANCE / f"{case}.json").read_text())


def cases(prefixes: tuple[str, ...]) -> list[str]:
    """The recorded case names starting with one of `prefixes`."""
    index = json.loads((GUIDANCE / "cases.json").read_text())["cases"]
    return [case["name"] for case in index if case["name"].startswith(prefixes)]


def build_guidance_files(file_ids: list[str], models: Path) -> None:
    """Write the random guidance files into `models` with the fixtures' own script (torch + safetensors)."""
    if file_ids:
        subprocess.run([sys.executable, str(GUIDANCE / "make_guidance_models.py"), ",".join(file_ids), str(models)],
                       check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(source)


def start_guidance_server(base: Path, case_names: list[str], references: dict[str, Path],
                          extra_files: tuple[str, ...] = ()) -> KilnServer:
    """A server whose folders `add_guidance_files` filled."""
    add_guidance_files(base, case_names, references, extra_files)
    server = KilnServer(base, [])
    server.start()
    return server


def add_guidance_files(base: Path, case_names: list[str], references: dict[str, Path],
                       extra_files: tuple[str, ...] = ()) -> None:
    """Put the cases' guidance files and `extra_files` (built) and reference files (linked from `references`:
    "folder/name" -> path) in `base`/models, and the hint images in `base`/input."""
    models = base / "models"
    file_ids: list[str] = list(extra_files)
    for case in case_names:
        for file_id in recorded(case)["guidance_files"]:
            if file_id not in file_ids:
                file_ids.append(file_id)
        for model in recorded(case)["model_files"]:
            key = f"{model['folder']}/{model['name']}"
            if key in references:
                link(references[key], models / model["folder"] / model["name"])
    build_guidance_files(file_ids, models)
    (base / "input").mkdir(parents=True, exist_ok=True)
    for image in (GUIDANCE / "inputs").iterdir():
        shutil.copy(image, base / "input" / image.name)


async def replay(client: KilnClient, case: str, timeout: float = 900) -> str:
    """Run a recorded case and compare with ComfyUI's numbers within its tolerances; a summary line."""
    record = recorded(case)
    references = recordings(case)
    if "latent" not in references[0]:
        return await _compare_images(client, record, references, timeout)
    tolerances = record["tolerances"]
    return await replay_and_compare(client, record["workflow"], references, latent_rtol=tolerances["latent_rtol"],
                                    image_max_abs=tolerances["image_max_abs"],
                                    image_mean_abs=tolerances["image_mean_abs"], timeout=timeout)


def recordings(case: str) -> list[dict]:
    """ComfyUI's recorded outputs of `case`: `<case>.safetensors`, then any `<case>.<cpu>.safetensors` recorded
    on another kind of CPU (where ComfyUI's own numbers differ, see the fixtures' README)."""
    variants = sorted(GUIDANCE.glob(f"{case}.*.safetensors"))
    return [load_file(str(path)) for path in [GUIDANCE / f"{case}.safetensors", *variants]]


async def _compare_images(client: KilnClient, record: dict, references: list[dict], timeout: float) -> str:
    """Image-only cases (Canny): every saved image within one level of ComfyUI's, for one of its recordings."""
    run = await client.run(record["workflow"], timeout=timeout)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    images = {}
    for key in references[0]:
        [item] = run.outputs()[key.removeprefix("image_")]["images"]
        images[key] = np.asarray(Image.open(io.BytesIO(await client.download(item))).convert("RGB")).astype(np.int16)
    worst_per_recording = [max(int(np.abs(images[key] - expected[0].astype(np.int16)).max())
                               for key, expected in reference.items()) for reference in references]
    assert min(worst_per_recording) <= 1, f"images differ by up to {worst_per_recording} levels"
    return f"images max |d| {min(worst_per_recording)}"


async def latent_of(client: KilnClient, workflow: dict, timeout: float = 900) -> np.ndarray:
    """Run `workflow` and return its SaveLatent (node 10) output."""
    run = await client.run(workflow, timeout=timeout)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    latent_file = run.outputs()["10"]["latents"][0]
    return load_safetensors_bytes(await client.download(latent_file))["latent_tensor"]
