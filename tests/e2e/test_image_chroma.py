"""Chroma end to end (issue 20): the reduced reference Chroma (ComfyUI's hardcoded sizes, 1 double + 1 single
block; tests/fixtures/comfyui_image/make_chroma_files.py REFERENCE_CONFIG) through UNETLoader ->
ModelSamplingAuraFlow -> KSampler (2 euler steps, cfg 1, and cfg 3 with a negative) on a 64x64 EmptySD3LatentImage
gives ComfyUI 0.3.64's recorded final latents (tools/oracle/record_chroma_runs.py) within 1e-4 of the largest
value. The text conditioning comes from KilnTestConditioning (the same seeded tensor on both servers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, added_files_removed, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_image"
RECORDED = FIXTURES / "chroma" / "runs"
sys.path.insert(0, str(FIXTURES))
import make_chroma_files  # noqa: E402

RECORDING = json.loads((RECORDED / "workflow.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
LATENT_RTOL = 1e-4


@pytest.fixture(scope="module")
def latents(server: KilnServer) -> dict[str, np.ndarray]:
    kiln = running(server)
    with added_files_removed(kiln.base_dir / "models"):
        folder = kiln.base_dir / "models" / "diffusion_models"
        folder.mkdir(parents=True, exist_ok=True)
        make_chroma_files.write_reference(str(folder / make_chroma_files.REFERENCE_NAME))
        outputs = run_prompt(kiln.url, RECORDING["workflow"], timeout=900)
        return saved_latents(kiln.url, outputs, RECORDING["cases"])


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_chroma_case_reproduces_comfyuis_latent(latents, case):
    assert_latent_close(latents[case], load_file(str(RECORDED / "latents.safetensors"))[case], LATENT_RTOL, case)


def test_the_cases_differ_on_comfyui():
    recorded = load_file(str(RECORDED / "latents.safetensors"))
    first, second = recorded.values()
    assert np.abs(first - second).max() > 1e-2 * np.abs(first).max()


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(request(f"{running(server).url}/object_info"))
    assert {name: served.get(name) for name in OBJECT_INFO} == OBJECT_INFO
