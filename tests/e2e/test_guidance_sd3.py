"""Guided generation on SD3 gives ComfyUI's numbers: the run ComfyUI 0.3.64 recorded on the reduced reference SD3
(its MMDiT, CLIP-L + CLIP-G, the 16-channel VAE) with a one-block SD3 ControlNet in diffusers' layout through
ControlNetApplySD3 (tests/fixtures/comfyui_guidance), replayed through the real server."""

from __future__ import annotations

import os

import pytest

from .guidance_runs import cases, replay, start_guidance_server

pytestmark = pytest.mark.asyncio

CASES = cases(("sd3_",))
REFERENCE_FILES = ("diffusion_models/ref-sd3-mmdit.safetensors", "text_encoders/ref-clip_l.safetensors",
                   "text_encoders/ref-clip_g.safetensors", "vae/ref-vae16.safetensors")


@pytest.fixture(scope="module")
def server(tmp_path_factory, flow_reference_models):
    base = tmp_path_factory.mktemp("kiln-guidance-sd3")
    kiln = start_guidance_server(base, CASES, {path: flow_reference_models / path for path in REFERENCE_FILES})
    yield kiln
    kiln.stop()


@pytest.mark.parametrize("case", CASES)
async def test_recorded_sd3_guided_run_reproduces_comfyuis_latent_and_image(client, case):
    summary = await replay(client, case)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")
