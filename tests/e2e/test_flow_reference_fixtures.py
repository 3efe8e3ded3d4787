"""ComfyUI's own end-to-end numbers for the flow models (`tests/fixtures/comfyui/e2e_flow`): the 5 recorded
workflows (Flux dev and schnell through UNETLoader + DualCLIPLoader + VAELoader; SD3 from its single-file
checkpoint and from its parts) on the reproducible random reference files, run through the real server, give
ComfyUI's final latents and images within each case's own `tolerances` entry."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import load as load_safetensors_bytes
from safetensors.numpy import load_file

from tests.conftest import FIXTURES

from .conftest import KilnServer

pytestmark = pytest.mark.asyncio

CASES = [case["name"] for case in json.loads((FIXTURES / "e2e_flow" / "cases.json").read_text())["cases"]]


@pytest.fixture(scope="module")
def server(tmp_path_factory, flow_reference_models):
    """A server whose model folders link to the reference flow files under their recorded names."""
    base = tmp_path_factory.mktemp("kiln-flow-reference")
    for case in CASES:
        for model in json.loads((FIXTURES / "e2e_flow" / f"{case}.json").read_text())["model_files"]:
            folder = base / "models" / model["folder"]
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / model["name"]).exists():
                (folder / model["name"]).symlink_to(flow_reference_models / model["folder"] / model["name"])
    kiln = KilnServer(base, [])
    kiln.start()
    yield kiln
    kiln.stop()


async def _download(client, item: dict) -> bytes:
    answer = await client.view(item["filename"], subfolder=item["subfolder"], type=item["type"])
    assert answer.status == 200, answer.body[:300]
    return answer.body


@pytest.mark.parametrize("case", CASES)
async def test_recorded_flow_workflow_reproduces_comfyuis_latent_and_image(client, case):
    recorded = json.loads((FIXTURES / "e2e_flow" / f"{case}.json").read_text())
    reference = load_file(str(FIXTURES / "e2e_flow" / f"{case}.safetensors"))
    tolerances = recorded["tolerances"]
    run = await client.run(recorded["workflow"], timeout=900)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")

    latent_file = next(item for item in run.outputs()["10"]["latents"])
    latent = load_safetensors_bytes(await _download(client, latent_file))["latent_tensor"]
    expected_latent = reference["latent"]
    latent_error = np.abs(latent - expected_latent).max()
    assert latent_error <= tolerances["latent_rtol"] * np.abs(expected_latent).max(), (
        f"latent max |d| = {latent_error} of max {np.abs(expected_latent).max()}")

    [image_item] = run.outputs()["9"]["images"]
    image = np.asarray(Image.open(io.BytesIO(await _download(client, image_item))).convert("RGB")).astype(np.int16)
    difference = np.abs(image - reference["image"][0].astype(np.int16))
    assert difference.max() <= tolerances["image_max_abs"], (difference.max(), difference.mean())
    assert difference.mean() <= tolerances["image_mean_abs"], (difference.max(), difference.mean())
    print(f"{case}: latent max|d|/max = {latent_error / np.abs(expected_latent).max():.2e}, image max "
          f"{difference.max()} mean {difference.mean():.4f} (threads {os.environ.get('OMP_NUM_THREADS')})")
