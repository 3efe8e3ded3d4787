"""Guided generation on the flow families gives ComfyUI's numbers: the runs ComfyUI 0.3.64 recorded
(tests/fixtures/comfyui_guidance), replayed through one real server:
- SD3: the reduced reference SD3 (its MMDiT, CLIP-L + CLIP-G, the 16-channel VAE) with a one-block SD3 ControlNet in
  diffusers' layout through ControlNetApplySD3;
- FLUX.1: the reduced reference FLUX.1-dev (CLIP-L and the fp8 T5-XXL) with one-block XLabs and InstantX
  ControlNets, within the T5 tolerance (1e-3)."""

from __future__ import annotations

import os

import pytest

from .conftest import added_files_removed, running
from .guidance_runs import add_guidance_files, cases, replay

pytestmark = pytest.mark.asyncio

CASES = cases(("sd3_", "flux_"))


@pytest.fixture(scope="module")
def server(flow_server):
    """The flow families' shared server (tests/e2e/conftest.py), with the cases' guidance files and hint images."""
    with added_files_removed(flow_server.base_dir / "models"):
        add_guidance_files(flow_server.base_dir, CASES, {})
        yield running(flow_server)


@pytest.mark.parametrize("case", CASES)
async def test_recorded_flow_guided_run_reproduces_comfyuis_latent_and_image(client, case):
    summary = await replay(client, case)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")
