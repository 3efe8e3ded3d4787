"""GLIGEN (GLIGENLoader, GLIGENTextBoxApply) gives ComfyUI 0.3.64's recorded final latents on the reference SD1.5
with a random full-size GLIGEN file (tests/fixtures/comfyui_nodes/make_gligen_file.py; recorded by
tools/oracle/record_gligen.py): one box, and two boxes from chained nodes, within 1e-4 of the largest value,
through the shared reference server; /object_info equal."""

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
RECORDED = FIXTURES / "gligen"
sys.path.insert(0, str(FIXTURES))
import make_gligen_file  # noqa: E402

RECORDING = json.loads((RECORDED / "workflow.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())


@pytest.fixture(scope="module")
def latents(reference_server: KilnServer, module_tmp) -> dict[str, np.ndarray]:
    """Kiln's final latent per case, from one run of the recorded prompt (the GLIGEN file linked into the shared
    server's gligen folder)."""
    kiln = running(reference_server)
    name = RECORDING["workflow"]["2"]["inputs"]["gligen_name"]
    built = make_gligen_file.build(module_tmp("gligen") / name)
    with added_files_removed(kiln.base_dir / "models"):
        link = kiln.base_dir / "models" / "gligen" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(built)
        return saved_latents(kiln.url, run_prompt(kiln.url, RECORDING["workflow"]), RECORDING["cases"])


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_gligen_boxes_reproduce_comfyuis_latent(latents, case):
    assert_latent_close(latents[case], load_file(str(RECORDED / "latents.safetensors"))[case], 1e-4, case)


def test_the_boxes_change_the_picture(latents):
    """Two boxes are not one: the second node's box reaches the model (and the fusers act at all)."""
    assert np.abs(latents["one_box"] - latents["two_boxes"]).max() > 1e-2


def test_object_info_entries_equal_comfyuis(reference_server):
    served = json.loads(request(f"{running(reference_server).url}/object_info"))
    gligen_list = served["GLIGENLoader"]["input"]["required"]["gligen_name"]
    expected = json.loads(json.dumps(OBJECT_INFO))
    expected["GLIGENLoader"]["input"]["required"]["gligen_name"] = gligen_list  # the folder's files differ
    assert {name: served[name] for name in OBJECT_INFO} == expected
