"""Wan 2.1 / 2.2 video (issue 19) through the server: ComfyUI 0.3.64's recorded final latents
(tools/oracle/record_wan_video.py) of text-to-video, the Wan 2.2 two-expert run, image-to-video, first-last-frame,
Fun inpaint and the TI2V 5B, on reduced random Wan models and the Wan VAEs
(tests/fixtures/comfyui_video/make_wan_inputs.py), within 1e-4 of the largest value. The text conditioning and CLIP vision outputs are seeded tensors
(KilnTestConditioning, KilnTestClipVisionOutput) on both servers; UMT5 is compared on its own
(tests/unit/test_umt5.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, added_files_removed, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_video"
RECORDED = FIXTURES / "wan_e2e"
sys.path.insert(0, str(FIXTURES))
import make_wan_inputs  # noqa: E402

RECORDING = json.loads((RECORDED / "workflow.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
LATENT_RTOL = 1e-4


@pytest.fixture(scope="module")
def latents(server: KilnServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    kiln = running(server)
    models = kiln.base_dir / "models"
    with added_files_removed(models), added_files_removed(kiln.base_dir / "input"):
        staging = tmp_path_factory.mktemp("wan-inputs")
        make_wan_inputs.build(staging)
        for kind in ("diffusion_models", "vae", "input"):
            target = (kiln.base_dir / "input") if kind == "input" else models / kind
            target.mkdir(parents=True, exist_ok=True)
            for source in (staging / kind).iterdir():
                (target / source.name).symlink_to(source)
        outputs = run_prompt(kiln.url, RECORDING["workflow"], timeout=900)
        return saved_latents(kiln.url, outputs, RECORDING["cases"])


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_wan_case_reproduces_comfyuis_latent(latents, case):
    assert_latent_close(latents[case], load_file(str(RECORDED / "latents.safetensors"))[case], LATENT_RTOL, case)


def test_the_recorded_cases_differ():
    """On ComfyUI, each model, sampler and conditioning path changed the latent: a case cannot pass by another's
    numbers."""
    recorded = load_file(str(RECORDED / "latents.safetensors"))
    for first, second in (("t2v", "t2v_uni_pc"), ("t2v", "two_experts"), ("i2v", "flf2v"), ("t2v", "i2v"),
                          ("t2v", "t2v_decoded"), ("i2v", "fun_inpaint")):
        scale = np.abs(recorded[first]).max()
        assert np.abs(recorded[first] - recorded[second]).max() > 1e-2 * scale, (first, second)
    assert recorded["t2v"].shape == (1, 16, 2, 4, 4) and recorded["ti2v_5b"].shape == (1, 48, 2, 4, 4)
    assert np.array_equal(recorded["trimmed"], recorded["t2v"][:, :, 1:])


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(request(f"{running(server).url}/object_info"))
    assert {name: served.get(name) for name in OBJECT_INFO} == OBJECT_INFO
