"""The UNet-level patch nodes of issue 18 (FreeU, FreeU_V2, PatchModelAddDownscale) give ComfyUI 0.3.64's recorded
final latents (tests/fixtures/comfyui_nodes/unet_patches, recorded by tools/oracle/record_unet_patch_nodes.py) on
the reference SD1.5 checkpoint, within 1e-4 of each latent's largest value, and serve ComfyUI's /object_info; a
pack's input/output block patches (the test pack's KilnTestBlockPatchProbe) are given what ComfyUI gives them.

One prompt runs every case as a branch of one checkpoint loader on the shared reference server.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load as load_safetensors_bytes
from safetensors.numpy import load_file

from .conftest import KilnServer, running

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "unet_patches"
RECORDING = json.loads((RECORDED / "workflows.json").read_text())["unet_patches"]
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
PROBE_NOTES = json.loads((RECORDED / "probe_notes.json").read_text())
LATENT_RTOL = 1e-4


@pytest.fixture(scope="module")
def server(reference_server):
    """The shared reference SD1.5 server (tests/e2e/conftest.py)."""
    return running(reference_server)


def _request(url: str, data: dict | None = None) -> bytes:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


@pytest.fixture(scope="module")
def outputs(server: KilnServer) -> dict:
    """The recorded prompt's outputs on Kiln."""
    prompt_id = json.loads(_request(f"{server.url}/prompt", {"prompt": RECORDING["workflow"]}))["prompt_id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        entry = json.loads(_request(f"{server.url}/history/{prompt_id}")).get(prompt_id)
        if entry and entry["status"].get("completed") is not None:
            assert entry["status"]["status_str"] == "success", json.dumps(entry["status"], indent=1)
            return entry["outputs"]
        time.sleep(0.2)
    raise TimeoutError(f"prompt {prompt_id} did not finish in 600 s")


def _latent(server: KilnServer, outputs: dict, node: str) -> np.ndarray:
    item = outputs[node]["latents"][0]
    query = urllib.parse.urlencode({key: item[key] for key in ("filename", "subfolder", "type")})
    return load_safetensors_bytes(_request(f"{server.url}/view?{query}"))["latent_tensor"]


def test_every_node_has_a_recorded_run():
    used = {node["class_type"] for node in RECORDING["workflow"].values()}
    assert set(OBJECT_INFO) <= used


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_the_branch_reproduces_comfyuis_latent(server, outputs, case):
    expected = load_file(str(RECORDED / "latents.safetensors"))[case]
    actual = _latent(server, outputs, RECORDING["cases"][case])
    assert actual.shape == expected.shape
    scale = np.abs(expected).max()
    error = np.abs(actual - expected).max()
    assert error <= LATENT_RTOL * scale, f"{case}: latent max |d| = {error} of max {scale}"


@pytest.mark.parametrize("probe", list(RECORDING["probes"]))
def test_block_patches_are_given_comfyuis_blocks_shapes_and_options(outputs, probe):
    notes = outputs[RECORDING["probes"][probe]]["notes"]
    assert notes == PROBE_NOTES[probe]


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(_request(f"{server.url}/object_info"))
    assert {name: served.get(name) for name in OBJECT_INFO} == OBJECT_INFO
