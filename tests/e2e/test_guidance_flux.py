"""Guided generation on FLUX.1 gives ComfyUI's numbers: the run ComfyUI 0.3.64 recorded on the reduced reference
FLUX.1-dev (CLIP-L and the fp8 T5-XXL) with a one-double-block XLabs ControlNet (tests/fixtures/comfyui_guidance),
replayed through the real server within the T5 tolerance (1e-3)."""

from __future__ import annotations

import os

import pytest

from .guidance_runs import cases, replay, start_guidance_server

pytestmark = pytest.mark.asyncio

CASES = cases(("flux_",))
REFERENCE_FILES = ("diffusion_models/ref-flux-dev.safetensors", "text_encoders/ref-clip_l.safetensors",
                   "text_encoders/ref-t5xxl_fp8_e4m3fn.safetensors", "vae/ref-vae16.safetensors")


@pytest.fixture(scope="module")
def server(tmp_path_factory, flow_reference_models):
    base = tmp_path_factory.mktemp("kiln-guidance-flux")
    kiln = start_guidance_server(base, CASES, {path: flow_reference_models / path for path in REFERENCE_FILES})
    yield kiln
    kiln.stop()


@pytest.mark.parametrize("case", CASES)
async def test_recorded_flux_guided_run_reproduces_comfyuis_latent_and_image(client, case):
    summary = await replay(client, case)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")
