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

from .conftest import KilnServer
from .recorded_runs import replay_and_compare

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


@pytest.mark.parametrize("case", CASES)
async def test_recorded_flow_workflow_reproduces_comfyuis_latent_and_image(client, case):
    recorded = json.loads((FIXTURES / "e2e_flow" / f"{case}.json").read_text())
    reference = load_file(str(FIXTURES / "e2e_flow" / f"{case}.safetensors"))
    tolerances = recorded["tolerances"]
    summary = await replay_and_compare(client, recorded["workflow"], reference, latent_rtol=tolerances["latent_rtol"],
                                       image_max_abs=tolerances["image_max_abs"],
                                       image_mean_abs=tolerances["image_mean_abs"], timeout=900)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")
