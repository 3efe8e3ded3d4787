"""FLUX.1 Kontext's reference latents (ReferenceLatent, FluxKontextMultiReferenceLatentMethod) give ComfyUI
0.3.64's recorded final latents on the reduced reference FLUX.1-dev (tools/oracle/record_kontext.py): one
reference, one on both sides of cfg 2 (cond and uncond batched), and two placed by "offset", "index" and "uxo/uno",
within the T5 tolerance (1e-3 of the largest value), through the flow families' shared server; /object_info
equal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

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
    return saved_latents(server.url, run_prompt(server.url, RECORDING["workflow"], timeout=1200), RECORDING["cases"])


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_reference_latents_reproduce_comfyuis_latent(latents, case):
    assert_latent_close(latents[case], load_file(str(RECORDED / "latents.safetensors"))[case], LATENT_RTOL, case)


def test_the_placement_methods_differ(latents):
    """Each method puts the references somewhere else, so the pictures differ: the cases test placement."""
    for first, second in (("two_offset", "two_index"), ("two_offset", "two_uxo"), ("one_reference", "two_offset")):
        assert np.abs(latents[first] - latents[second]).max() > 1e-3, (first, second)


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(request(f"{server.url}/object_info"))
    assert {name: served[name] for name in OBJECT_INFO} == OBJECT_INFO
