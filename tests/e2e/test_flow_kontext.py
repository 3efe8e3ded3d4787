"""FLUX.1 Kontext's reference latents (ReferenceLatent, FluxKontextMultiReferenceLatentMethod) give ComfyUI
0.3.64's recorded final latents on the reduced reference FLUX.1-dev (tools/oracle/record_kontext.py): one
reference, one on both sides of cfg 2 (cond and uncond batched), and two placed by "offset", "index" and "uxo/uno",
within the T5 tolerance (1e-3 of the largest value), through the flow families' shared server; /object_info
equal."""

from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load as load_safetensors_bytes
from safetensors.numpy import load_file

from .conftest import KilnServer, running
from .test_reference_patch_guider_nodes import _request, _run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes"
RECORDED = FIXTURES / "kontext"
sys.path.insert(0, str(FIXTURES))
import make_kontext_pictures  # noqa: E402

RECORDING = json.loads((RECORDED / "workflow.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
LATENT_RTOL = 1e-3  # T5-XXL's run-to-run spread in ComfyUI itself (tests/fixtures/comfyui/README.md)


@pytest.fixture(scope="module")
def server(flow_server: KilnServer) -> KilnServer:
    kiln = running(flow_server)
    (kiln.base_dir / "input").mkdir(exist_ok=True)
    names = [RECORDING["workflow"][node]["inputs"]["image"] for node in ("5", "7")]
    for name, picture in zip(names, make_kontext_pictures.pictures(), strict=True):
        picture.save(kiln.base_dir / "input" / name)
    return kiln


@pytest.fixture(scope="module")
def latents(server: KilnServer) -> dict[str, np.ndarray]:
    outputs = _run(server.url, RECORDING["workflow"], timeout=1200)
    result = {}
    for case, node in RECORDING["cases"].items():
        item = outputs[node]["latents"][0]
        query = urllib.parse.urlencode({key: item[key] for key in ("filename", "subfolder", "type")})
        result[case] = load_safetensors_bytes(_request(f"{server.url}/view?{query}"))["latent_tensor"]
    return result


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_reference_latents_reproduce_comfyuis_latent(latents, case):
    expected = load_file(str(RECORDED / "latents.safetensors"))[case]
    assert latents[case].shape == expected.shape
    scale = np.abs(expected).max()
    assert np.abs(latents[case] - expected).max() <= LATENT_RTOL * scale


def test_the_placement_methods_differ(latents):
    """Each method puts the references somewhere else, so the pictures differ: the cases test placement."""
    for first, second in (("two_offset", "two_index"), ("two_offset", "two_uxo"), ("one_reference", "two_offset")):
        assert np.abs(latents[first] - latents[second]).max() > 1e-3, (first, second)


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(_request(f"{server.url}/object_info"))
    assert {name: served[name] for name in OBJECT_INFO} == OBJECT_INFO
