"""The UNet-level patch nodes of issue 18 (FreeU, FreeU_V2, PatchModelAddDownscale) give ComfyUI 0.3.64's recorded
final latents (tests/fixtures/comfyui_nodes/unet_patches, recorded by tools/oracle/record_unet_patch_nodes.py) on
the reference SD1.5 checkpoint, within 1e-4 of each latent's largest value, and serve ComfyUI's /object_info; a
pack's input/output block patches (the test pack's KilnTestBlockPatchProbe) are given what ComfyUI gives them.

One prompt runs every case as a branch of one checkpoint loader on the shared reference server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "unet_patches"
RECORDING = json.loads((RECORDED / "workflows.json").read_text())["unet_patches"]
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
PROBE_NOTES = json.loads((RECORDED / "probe_notes.json").read_text())
LATENT_RTOL = 1e-4


@pytest.fixture(scope="module")
def server(reference_server):
    """The shared reference SD1.5 server (tests/e2e/conftest.py)."""
    return running(reference_server)


@pytest.fixture(scope="module")
def outputs(server: KilnServer) -> dict:
    """The recorded prompt's outputs on Kiln."""
    return run_prompt(server.url, RECORDING["workflow"])


def test_every_node_has_a_recorded_run():
    used = {node["class_type"] for node in RECORDING["workflow"].values()}
    assert set(OBJECT_INFO) <= used


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_the_branch_reproduces_comfyuis_latent(server, outputs, case):
    expected = load_file(str(RECORDED / "latents.safetensors"))[case]
    actual = saved_latents(server.url, outputs, {case: RECORDING["cases"][case]})[case]
    assert_latent_close(actual, expected, LATENT_RTOL, case)


@pytest.mark.parametrize("probe", list(RECORDING["probes"]))
def test_block_patches_are_given_comfyuis_blocks_shapes_and_options(outputs, probe):
    notes = outputs[RECORDING["probes"][probe]]["notes"]
    assert notes == PROBE_NOTES[probe]


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(request(f"{server.url}/object_info"))
    assert {name: served.get(name) for name in OBJECT_INFO} == OBJECT_INFO
