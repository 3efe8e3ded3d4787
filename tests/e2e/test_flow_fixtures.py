"""ComfyUI's own end-to-end numbers for the flow models (`tests/fixtures/comfyui/e2e_flow`): the 5 recorded
workflows (Flux dev and schnell through UNETLoader + DualCLIPLoader + VAELoader; SD3 from its single-file
checkpoint and from its parts) on the reproducible random reference files, run through the real server, give
ComfyUI's final latents and images within each case's own `tolerances` entry."""

from __future__ import annotations

import json
import os

import pytest
from safetensors.numpy import load_file

from tests.conftest import FIXTURES

from .conftest import running
from .recorded_runs import replay_and_compare

pytestmark = pytest.mark.asyncio

# SD3 first, FLUX.1 last: the next module on the shared server (test_flow_guidance.py) encodes the same FLUX.1
# prompt through the same T5 and finds it cached.
CASES = sorted((case["name"] for case in json.loads((FIXTURES / "e2e_flow" / "cases.json").read_text())["cases"]),
               key=lambda name: name.startswith("flux"))


@pytest.fixture(scope="module")
def server(flow_server):
    """The flow families' shared server (tests/e2e/conftest.py): its model folders link the reference flow files
    under their recorded names."""
    return running(flow_server)


@pytest.mark.parametrize("case", CASES)
async def test_recorded_flow_workflow_reproduces_comfyuis_latent_and_image(client, case):
    recorded = json.loads((FIXTURES / "e2e_flow" / f"{case}.json").read_text())
    reference = load_file(str(FIXTURES / "e2e_flow" / f"{case}.safetensors"))
    tolerances = recorded["tolerances"]
    summary = await replay_and_compare(client, recorded["workflow"], reference, latent_rtol=tolerances["latent_rtol"],
                                       image_max_abs=tolerances["image_max_abs"],
                                       image_mean_abs=tolerances["image_mean_abs"], timeout=900)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")
