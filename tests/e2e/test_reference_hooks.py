"""Hooks (issue 18): a LoRA carried by conditioning and scheduled by keyframes over the steps gives ComfyUI
0.3.64's recorded final latents on the reference SD1.5 (tests/fixtures/comfyui_nodes/hooks, recorded by
tools/oracle/record_hooks.py) within 1e-4 of the largest value: keyframes switching a hook's strength half-way,
on the positive prompt only or on both, two hooks combined on an added entry, interpolated keyframes, a hooked
default entry filling what a masked entry leaves, CLIP hooks (SetClipHooks) carried to the conditionings,
scheduled over the steps (one entry per span) and on the text encoder alone, a hooked pair of entries added to
both prompts over a step range. The LoRAs are built from seeds (make_hook_loras.py) into the shared server's
loras folder. The hook nodes serve ComfyUI's /object_info."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, added_files_removed, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "hooks"
sys.path.insert(0, str(RECORDED))
import make_hook_loras  # noqa: E402

RECORDING = json.loads((RECORDED / "workflow.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
# the inputs that list a model folder's files, which differ between the machines
FILE_LISTS = {"CreateHookLora": "lora_name", "CreateHookLoraModelOnly": "lora_name",
              "CreateHookModelAsLora": "ckpt_name", "CreateHookModelAsLoraModelOnly": "ckpt_name"}


@pytest.fixture(scope="module")
def latents(reference_server: KilnServer, reference_checkpoint: Path) -> dict[str, np.ndarray]:
    """Kiln's final latent per case, from one run of the recorded prompt."""
    kiln = running(reference_server)
    loras = kiln.base_dir / "models" / "loras"
    with added_files_removed(kiln.base_dir / "models"):
        make_hook_loras.build(reference_checkpoint, loras)
        return saved_latents(kiln.url, run_prompt(kiln.url, RECORDING["workflow"]), RECORDING["cases"])


@pytest.mark.parametrize("case", list(RECORDING["cases"]))
def test_hooked_loras_reproduce_comfyuis_latent(latents, case):
    assert_latent_close(latents[case], load_file(str(RECORDED / "latents.safetensors"))[case], 1e-4, case)


def test_the_hooks_change_the_picture(latents):
    """Each hooked case differs from the unhooked run, and a keyframed hook on both prompts from one on the
    positive prompt alone: the hooks reach the model, only where they are attached."""
    for case in RECORDING["cases"]:
        if case != "no_hooks":
            assert np.abs(latents[case] - latents["no_hooks"]).max() > 1e-2, case
    assert np.abs(latents["keyframes_both"] - latents["keyframes_positive"]).max() > 1e-2
    assert np.abs(latents["clip_hooks"] - latents["clip_hooks_encoder_only"]).max() > 1e-2


def test_object_info_entries_equal_comfyuis(reference_server):
    served = json.loads(request(f"{running(reference_server).url}/object_info"))
    expected = json.loads(json.dumps(OBJECT_INFO))
    for name, file_input in FILE_LISTS.items():
        expected[name]["input"]["required"][file_input] = served[name]["input"]["required"][file_input]
    assert {name: served.get(name) for name in expected} == expected
