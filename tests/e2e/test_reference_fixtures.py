"""ComfyUI's own end-to-end numbers (`tests/fixtures/comfyui/e2e`): the 9 recorded workflows on the
reproducible random SD1.5 checkpoint, run through the real server, give ComfyUI's final latents (within 1e-4
of their largest value) and images (within 2 levels, 0.1 on average)."""

from __future__ import annotations

import json

import pytest
from safetensors.numpy import load_file

from tests.conftest import FIXTURES

from .conftest import KilnServer
from .recorded_runs import replay_and_compare

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


@pytest.mark.parametrize("case", CASES)
async def test_recorded_workflow_reproduces_comfyuis_latent_and_image(client, case):
    recorded = json.loads((FIXTURES / "e2e" / f"{case}.json").read_text())
    reference = load_file(str(FIXTURES / "e2e" / f"{case}.safetensors"))
    await replay_and_compare(client, recorded["workflow"], reference, latent_rtol=1e-4)
