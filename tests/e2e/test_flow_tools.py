"""FLUX.1 Fill and FLUX.1 Depth / Canny (issue 17): models whose `img_in` reads the picture's latent (and, for
Fill, the 8x8-folded mask) beside the noisy latent give ComfyUI 0.3.64's recorded final latents
(tools/oracle/record_flux_tools.py) through InpaintModelConditioning and InstructPixToPixConditioning, on widened
copies of the reduced reference FLUX.1-dev (tests/fixtures/comfyui_nodes/make_flux_tools_files.py), within the T5
tolerance (1e-3 of the largest value), through the flow families' shared server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, added_files_removed, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes"
RECORDED = FIXTURES / "flux_tools"
sys.path.insert(0, str(FIXTURES))
import make_flux_tools_files  # noqa: E402

RECORDING = json.loads((RECORDED / "workflow.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
LATENT_RTOL = 1e-3  # T5-XXL's run-to-run spread in ComfyUI itself (tests/fixtures/comfyui/README.md)


@pytest.fixture(scope="module")
def latents(flow_server: KilnServer, flow_reference_models: Path) -> dict[str, np.ndarray]:
    kiln = running(flow_server)
    with added_files_removed(kiln.base_dir / "models"), added_files_removed(kiln.base_dir / "input"):
        make_flux_tools_files.build(flow_reference_models / "diffusion_models" / "ref-flux-dev.safetensors",
                                    kiln.base_dir / "models" / "diffusion_models")
        (kiln.base_dir / "input").mkdir(exist_ok=True)
        make_flux_tools_files.picture().save(kiln.base_dir / "input" / make_flux_tools_files.PICTURE)
        outputs = run_prompt(kiln.url, RECORDING["workflow"], timeout=1200)
        return saved_latents(kiln.url, outputs, RECORDING["cases"])


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_flux_tools_case_reproduces_comfyuis_latent(latents, case):
    assert_latent_close(latents[case], load_file(str(RECORDED / "latents.safetensors"))[case], LATENT_RTOL, case)


def test_the_picture_and_mask_act():
    """On ComfyUI, the mask's noise_mask and the cfg change the Fill latent, and the two models differ."""
    recorded = load_file(str(RECORDED / "latents.safetensors"))
    for first, second in (("fill_noise_mask", "fill_no_noise_mask"), ("fill_noise_mask", "fill_cfg2"),
                          ("depth", "depth_cfg2"), ("fill_no_noise_mask", "depth")):
        scale = np.abs(recorded[first]).max()
        assert np.abs(recorded[first] - recorded[second]).max() > 1e-2 * scale, (first, second)


def test_object_info_entries_equal_comfyuis(flow_server):
    served = json.loads(request(f"{running(flow_server).url}/object_info"))
    assert {name: served.get(name) for name in OBJECT_INFO} == OBJECT_INFO
