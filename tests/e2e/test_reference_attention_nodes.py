"""The attention-level patch nodes of issue 18 (UNetSelfAttentionMultiply, UNetCrossAttentionMultiply,
CLIPAttentionMultiply, UNetTemporalAttentionMultiply, HyperTile, SelfAttentionGuidance, PerturbedAttentionGuidance)
give ComfyUI 0.3.64's recorded final latents (tests/fixtures/comfyui_nodes/attention, recorded by
tools/oracle/record_attention_nodes.py) on the reference SD1.5 checkpoint, within 1e-4 of each latent's largest
value, and serve ComfyUI's /object_info.

One prompt holds every case as a branch of one checkpoint loader (64x64 images; 128x128 for HyperTile, whose
random tiling needs a latent side with several divisors, and SAG, whose middle-block map must be at least 2x2).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "attention"
FAMILIES = json.loads((RECORDED / "workflows.json").read_text())
CASES = [(family, case) for family, recorded in FAMILIES.items() for case in recorded["cases"]]
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
LATENT_RTOL = 1e-4


@pytest.fixture(scope="module")
def server(reference_server):
    """The shared reference SD1.5 server (tests/e2e/conftest.py)."""
    return running(reference_server)


@pytest.fixture(scope="module")
def latents(server: KilnServer) -> dict[str, np.ndarray]:
    """{case: Kiln's final latent}, from one run of the recorded prompt."""
    result = {}
    for recorded in FAMILIES.values():
        result.update(saved_latents(server.url, run_prompt(server.url, recorded["workflow"]), recorded["cases"]))
    return result


def test_every_node_of_the_part_has_a_recorded_run():
    used = {node["class_type"] for recorded in FAMILIES.values() for node in recorded["workflow"].values()}
    assert set(OBJECT_INFO) <= used


@pytest.mark.parametrize(("family", "case"), CASES, ids=[case for _, case in CASES])
def test_the_branch_reproduces_comfyuis_latent(latents, family, case):
    expected = load_file(str(RECORDED / "latents.safetensors"))[case]
    assert_latent_close(latents[case], expected, LATENT_RTOL, f"{family}/{case}")


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(request(f"{server.url}/object_info"))
    assert {name: served.get(name) for name in OBJECT_INFO} == OBJECT_INFO
