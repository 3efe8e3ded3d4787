"""Replaying ComfyUI's recorded runs through the server: the end-to-end runs (`tests/fixtures/comfyui/e2e*/`,
comparing the saved latent (node 10, SaveLatent) and image (node 9, SaveImage) with ComfyUI's), and the node
replays (`tests/fixtures/comfyui_nodes/*/`: one prompt, a SaveLatent per case)."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from PIL import Image
from safetensors.numpy import load as load_safetensors_bytes

from .client import KilnClient


async def replay_and_compare(client: KilnClient, workflow: dict, reference: dict | list[dict], *,
                             latent_rtol: float, image_max_abs: int = 2, image_mean_abs: float = 0.1,
                             timeout: float = 300) -> str:
    """Run `workflow`; assert its latent is within `latent_rtol` of the reference's largest value and its image
    within the pixel tolerances. `reference` may be a list of ComfyUI's recordings of the same case on different
    CPUs (see tests/fixtures/comfyui_guidance/README.md): matching one of them passes. A one-line summary."""
    run = await client.run(workflow, timeout=timeout)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")

    latent_file = next(item for item in run.outputs()["10"]["latents"])
    latent = load_safetensors_bytes(await client.download(latent_file))["latent_tensor"]
    [image_item] = run.outputs()["9"]["images"]
    image = np.asarray(Image.open(io.BytesIO(await client.download(image_item))).convert("RGB")).astype(np.int16)
    failures = []
    for recording in reference if isinstance(reference, list) else [reference]:
        scale = np.abs(recording["latent"]).max()
        latent_error = np.abs(latent - recording["latent"]).max()
        difference = np.abs(image - recording["image"][0].astype(np.int16))
        summary = (f"latent max|d|/max = {latent_error / scale:.2e}, image max {difference.max()} "
                   f"mean {difference.mean():.4f}")
        if latent_error <= latent_rtol * scale and difference.max() <= image_max_abs \
                and difference.mean() <= image_mean_abs:
            return summary
        failures.append(f"latent max |d| = {latent_error} of max {scale}; image max {difference.max()} "
                        f"mean {difference.mean():.4f}")
    raise AssertionError("; or ".join(failures))


# -- the recorded node replays (test_reference_*.py, test_flow_kontext.py): one prompt, SaveLatent per case -----

def request(url: str, data: dict | None = None, timeout: float = 60) -> bytes:
    """GET `url`, or POST `data` as JSON to it; the answer's bytes."""
    body = json.dumps(data).encode() if data is not None else None
    outgoing = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(outgoing, timeout=timeout) as response:
        return response.read()


def run_prompt(url: str, workflow: dict, timeout: float = 600) -> dict:
    """Queue `workflow` on the server at `url`, wait for it, assert it succeeded; its outputs."""
    try:
        prompt_id = json.loads(request(f"{url}/prompt", {"prompt": workflow}))["prompt_id"]
    except urllib.error.HTTPError as error:
        raise AssertionError(f"POST /prompt answered {error.code}: {error.read()[:2000]!r}") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = json.loads(request(f"{url}/history/{prompt_id}")).get(prompt_id)
        if entry and entry["status"].get("completed") is not None:
            assert entry["status"]["status_str"] == "success", json.dumps(entry["status"], indent=1)
            return entry["outputs"]
        time.sleep(0.2)
    raise TimeoutError(f"prompt {prompt_id} did not finish in {timeout} s")


def saved_latents(url: str, outputs: dict, cases: dict[str, str]) -> dict[str, np.ndarray]:
    """{case: the latent its SaveLatent node (`cases[case]`) saved}, fetched through /view."""
    result = {}
    for case, node in cases.items():
        item = outputs[node]["latents"][0]
        query = urllib.parse.urlencode({key: item[key] for key in ("filename", "subfolder", "type")})
        result[case] = load_safetensors_bytes(request(f"{url}/view?{query}"))["latent_tensor"]
    return result


def assert_latent_close(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str = "") -> None:
    """Same shape, and within `rtol` of the expected latent's largest value."""
    assert actual.shape == expected.shape, what
    scale = np.abs(expected).max()
    error = np.abs(actual - expected).max()
    assert error <= rtol * scale, f"{what}: latent max |d| = {error} of max {scale}"
