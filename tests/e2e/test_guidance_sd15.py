"""Guided generation on SD1.5 gives ComfyUI's numbers: the runs ComfyUI 0.3.64 recorded on the reference SD1.5
checkpoint with full-size random ControlNets (lllyasviel's and diffusers' layouts, one alone, two chained with
different hints and start/end percents, the old apply node), T2I-Adapters (full and light) and the Canny node
(tests/fixtures/comfyui_guidance), replayed through the real server within each case's tolerances."""

from __future__ import annotations

import os

import pytest

from tests import model_factory

from .guidance_runs import cases, recorded, replay, start_guidance_server

pytestmark = pytest.mark.asyncio

CASES = cases(("sd15_", "canny"))


@pytest.fixture(scope="module")
def server(module_tmp, reference_checkpoint):
    base = module_tmp("kiln-guidance-sd15")
    model_factory.write_tiny_checkpoint(base / "models" / "checkpoints" / "kiln-tiny-sdxl.safetensors", "SDXL", 0)
    kiln = start_guidance_server(base, CASES, {"checkpoints/ref-sd15.safetensors": reference_checkpoint})
    yield kiln
    kiln.stop()


@pytest.mark.parametrize("case", CASES)
async def test_recorded_guided_run_reproduces_comfyuis_latent_and_image(client, case):
    summary = await replay(client, case)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")


async def test_an_sd15_controlnet_on_an_sdxl_model_names_both_families(client):
    """A ControlNet made for another family is an execution_error naming both (ComfyUI fails on shapes)."""
    workflow = recorded("sd15_controlnet_original")["workflow"]
    workflow["4"]["inputs"]["ckpt_name"] = "kiln-tiny-sdxl.safetensors"
    run = await client.run(workflow, timeout=600)
    [error] = run.of_type("execution_error")
    assert error["node_type"] == "KSampler"
    assert "made for SD1.x models" in error["exception_message"] and "SDXL" in error["exception_message"]
