"""ComfyUI's own end-to-end numbers (`tests/fixtures/comfyui/e2e`): the 9 recorded workflows on the
reproducible random SD1.5 checkpoint, run through the real server, give ComfyUI's final latents (within 1e-4
of their largest value) and images (within 2 levels, 0.1 on average)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import load as load_safetensors_bytes
from safetensors.numpy import load_file

from tests.conftest import FIXTURES

from .conftest import KilnServer

pytestmark = pytest.mark.asyncio

CASES = [case["name"] for case in json.loads((FIXTURES / "e2e" / "cases.json").read_text())["cases"]]


@pytest.fixture(scope="module")
def server(tmp_path_factory, reference_checkpoint):
    """A server whose checkpoints folder links to the reference checkpoint under its recorded name."""
    base = tmp_path_factory.mktemp("kiln-reference")
    checkpoints = base / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "ref-sd15.safetensors").symlink_to(reference_checkpoint)
    kiln = KilnServer(base, [])
    kiln.start()
    yield kiln
    kiln.stop()


async def _download(client, item: dict) -> bytes:
    answer = await client.view(item["filename"], subfolder=item["subfolder"], type=item["type"])
    assert answer.status == 200, answer.body[:300]
    return answer.body


@pytest.mark.parametrize("case", CASES)
async def test_recorded_workflow_reproduces_comfyuis_latent_and_image(client, case):
    recorded = json.loads((FIXTURES / "e2e" / f"{case}.json").read_text())
    reference = load_file(str(FIXTURES / "e2e" / f"{case}.safetensors"))
    run = await client.run(recorded["workflow"], timeout=300)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")

    latent_file = next(item for item in run.outputs()["10"]["latents"])
    latent = load_safetensors_bytes(await _download(client, latent_file))["latent_tensor"]
    expected_latent = reference["latent"]
    latent_error = np.abs(latent - expected_latent).max()
    assert latent_error <= 1e-4 * np.abs(expected_latent).max(), f"latent max |d| = {latent_error}"

    [image_item] = run.outputs()["9"]["images"]
    image = np.asarray(Image.open(io.BytesIO(await _download(client, image_item))).convert("RGB")).astype(np.int16)
    difference = np.abs(image - reference["image"][0].astype(np.int16))
    assert difference.max() <= 2 and difference.mean() <= 0.1, (difference.max(), difference.mean())
