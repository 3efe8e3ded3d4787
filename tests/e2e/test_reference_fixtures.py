"""ComfyUI's own end-to-end numbers (`tests/fixtures/comfyui/e2e`): the 9 recorded workflows on the
reproducible random SD1.5 checkpoint, run through the real server, give ComfyUI's final latents (within 1e-4
of their largest value) and images (within 2 levels, 0.1 on average)."""

from __future__ import annotations

import json

import pytest
from safetensors.numpy import load_file

from tests.conftest import FIXTURES

from .conftest import running
from .recorded_runs import replay_and_compare

pytestmark = pytest.mark.asyncio

CASES = [case["name"] for case in json.loads((FIXTURES / "e2e" / "cases.json").read_text())["cases"]]


@pytest.fixture(scope="module")
def server(reference_server):
    """The shared reference SD1.5 server (tests/e2e/conftest.py)."""
    return running(reference_server)


@pytest.mark.parametrize("case", CASES)
async def test_recorded_workflow_reproduces_comfyuis_latent_and_image(client, case):
    recorded = json.loads((FIXTURES / "e2e" / f"{case}.json").read_text())
    reference = load_file(str(FIXTURES / "e2e" / f"{case}.safetensors"))
    await replay_and_compare(client, recorded["workflow"], reference, latent_rtol=1e-4)
