"""LoRAs on FLUX.1 and SD3 give ComfyUI's numbers: the runs ComfyUI 0.3.64 recorded (`tests/fixtures/comfyui_lora`)
with LoRAs in ComfyUI's, kohya's, diffusers'/PEFT's and XLabs' names on the transformers and the text encoders
(fp8 and `scaled_fp8` T5 included), replayed through the real server on the reduced random reference files,
within each case's tolerances. The LoRA files and the scaled T5 are rebuilt by the fixtures' own script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from tests import model_factory

from .conftest import added_files_removed, running
from .recorded_runs import replay_and_compare

pytestmark = pytest.mark.asyncio

LORA_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_lora"
RECORDED = json.loads((LORA_FIXTURES / "cases.json").read_text())["cases"]
# The tests whose T5 carries no LoRA come first (the two below, then the XLabs case): their prompt encoding is the
# one the previous module on the shared server made (a T5-XXL encoding is about a minute on one thread). Then SD3,
# the Flux cases on the plain T5, and those on the scaled T5.
CASES = sorted((case["name"] for case in RECORDED if not case.get("expect_no_effect")),
               key=lambda name: (name != "flux_dev_lora_xlabs", not name.startswith("sd3"), "scaled" in name, name))
SCALED_T5 = "ref-t5xxl_fp8_e4m3fn_scaled.safetensors"


def _recorded(case: str) -> dict:
    return json.loads((LORA_FIXTURES / f"{case}.json").read_text())


def _make(*arguments: str) -> None:
    subprocess.run([sys.executable, str(LORA_FIXTURES / "make_loras.py"), *arguments], check=True,
                   capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def server(flow_server, flow_reference_models):
    """The flow families' shared server (tests/e2e/conftest.py), with the LoRA files and the scaled-fp8 T5 derived
    from the reference T5 (about 30 s, 4.7 GB, deleted when the module is done)."""
    models = flow_server.base_dir / "models"
    with added_files_removed(models):
        _make(str(models / "loras"))
        model_factory.write_safetensors(models / "loras" / "sd1-lora.safetensors",
                                        model_factory.tiny_lora_sd1_state_dict(0))
        _make("--scaled-t5", str(flow_reference_models / "text_encoders" / "ref-t5xxl_fp8_e4m3fn.safetensors"),
              str(models / "text_encoders" / SCALED_T5))
        yield running(flow_server)


async def _replay(client, workflow: dict, reference_case: str) -> str:
    reference = load_file(str(LORA_FIXTURES / f"{reference_case}.safetensors"))
    tolerances = _recorded(reference_case)["tolerances"]
    return await replay_and_compare(client, workflow, reference, latent_rtol=tolerances["latent_rtol"],
                                    image_max_abs=tolerances["image_max_abs"],
                                    image_mean_abs=tolerances["image_mean_abs"], timeout=1200)


async def test_an_xlabs_lora_applies_without_the_full_size_marker_keys(client):
    """ComfyUI 0.3.64 reads XLabs' `processor` names only when a file also has one of XLabs' full-size marker
    keys (it recorded no effect without them); Kiln reads them by name: the same file without the markers gives
    the result ComfyUI gives with them."""
    workflow = _recorded("flux_dev_lora_xlabs_notrigger")["workflow"]
    await _replay(client, workflow, "flux_dev_lora_xlabs")


@pytest.mark.parametrize("case", ["flux_dev_lora_xlabs", "sd3_lora_comfy"])
async def test_an_sd1_lora_on_sd3_or_flux_is_an_execution_error_naming_the_lora(client, case):
    workflow = _recorded(case)["workflow"]
    workflow["17"]["inputs"]["lora_name"] = "sd1-lora.safetensors"
    run = await client.run(workflow, timeout=1200)
    [error] = run.of_type("execution_error")
    assert error["node_id"] == "17" and error["node_type"] in ("LoraLoader", "LoraLoaderModelOnly")
    assert "sd1-lora.safetensors does not fit this model" in error["exception_message"]
    assert "another model family" in error["exception_message"]


@pytest.mark.parametrize("case", CASES)
async def test_recorded_lora_workflow_reproduces_comfyuis_latent_and_image(client, case):
    summary = await _replay(client, _recorded(case)["workflow"], case)
    print(f"{case}: {summary} (threads {os.environ.get('OMP_NUM_THREADS')})")
