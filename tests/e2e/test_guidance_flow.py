"""Guided generation on the flow families gives ComfyUI's numbers: the runs ComfyUI 0.3.64 recorded
(tests/fixtures/comfyui_guidance), replayed through one real server:
- SD3: the reduced reference SD3 (its MMDiT, CLIP-L + CLIP-G, the 16-channel VAE) with a one-block SD3 ControlNet in
  diffusers' layout through ControlNetApplySD3;
- FLUX.1: the reduced reference FLUX.1-dev (CLIP-L and the fp8 T5-XXL) with one-block XLabs and InstantX
  ControlNets, within the T5 tolerance (1e-3)."""

from __future__ import annotations

import os

import pytest

from .guidance_runs import cases, replay, start_guidance_server

pytestmark = pytest.mark.asyncio

CASES = cases(("sd3_", "flux_"))
REFERENCE_FILES = ("diffusion_models/ref-sd3-mmdit.safetensors", "diffusion_models/ref-flux-dev.safetensors",
                   "text_encoders/ref-clip_l.safetensors", "text_encoders/ref-clip_g.safetensors",
                   "text_encoders/ref-t5xxl_fp8_e4m3fn.safetensors", "vae/ref-vae16.safetensors")


@pytest.fixture(scope="module")
def server(tmp_path_factory, flow_reference_models):
    base = tmp_path_factory.mktemp("kiln-guidance-flow")
    kiln = start_guidance_server(base, CASES, {path: flow_reference_models / path for path in REFERENCE_FILES})
    yield kiln
    kiln.stop()


@pytest.mark.parametrize("case", CASES)
async def test_recorded_flow_guided_run_reproduces_comfyuis_latent_and_image(client, case):
    summary = await replay(client, case)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")
