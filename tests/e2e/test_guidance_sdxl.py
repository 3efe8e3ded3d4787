"""Guided generation on SDXL gives ComfyUI's numbers: the runs ComfyUI 0.3.64 recorded on a random SDXL UNet of
Segmind Vega's depths (the smallest SDXL ComfyUI detects) with the reference CLIP-L / CLIP-G: a ControlNet of
ComfyUI's SDXL_mid_cnet shape, xinsir's ControlNet-union with SetUnionControlNetType (canny, auto), a rank-8
Control-LoRA and an SDXL T2I-Adapter (tests/fixtures/comfyui_guidance), replayed through the real server; and an
SD3 ControlNet on it, an error naming both families."""

from __future__ import annotations

import os

import pytest

from .guidance_runs import cases, recorded, replay, start_guidance_server

pytestmark = pytest.mark.asyncio

CASES = cases(("sdxl_",))


@pytest.fixture(scope="module")
def server(module_tmp, reference_checkpoint, flow_reference_models):
    base = module_tmp("kiln-guidance-sdxl")
    references = {"checkpoints/ref-sd15.safetensors": reference_checkpoint}
    for name in ("ref-clip_l.safetensors", "ref-clip_g.safetensors"):
        references[f"text_encoders/{name}"] = flow_reference_models / "text_encoders" / name
    kiln = start_guidance_server(base, CASES, references, extra_files=("cn-sd3",))
    yield kiln
    kiln.stop()


@pytest.mark.parametrize("case", CASES)
async def test_recorded_sdxl_guided_run_reproduces_comfyuis_latent_and_image(client, case):
    summary = await replay(client, case)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")


async def test_an_sd3_controlnet_on_an_sdxl_model_names_both_families(client):
    """A ControlNet made for another family is an execution_error naming both (ComfyUI fails on shapes)."""
    workflow = recorded("sdxl_controlnet")["workflow"]
    workflow["21"]["inputs"]["control_net_name"] = "kiln-cn-sd3.safetensors"
    run = await client.run(workflow, timeout=600)
    [error] = run.of_type("execution_error")
    assert error["node_type"] == "KSampler"
    assert "made for SD3 models" in error["exception_message"] and "SDXL" in error["exception_message"]
