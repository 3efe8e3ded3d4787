"""LoraSave ("Extract and Save Lora") on the reference SD1.5 with the hooks fixtures' LoRA on it: the model's
difference saved whole and the text encoder's at rank 4 (tests/fixtures/comfyui_nodes/lora_extract, recorded by
tools/oracle/record_lora_extract.py). The files Kiln extracts name the layers ComfyUI's do, their text-encoder
layers carry the same low-rank products, and loaded back on the plain checkpoint they give ComfyUI's final latent
within 1e-4 of its largest value."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

from .conftest import KilnServer, added_files_removed, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes"
RECORDED = FIXTURES / "lora_extract"
sys.path.insert(0, str(FIXTURES / "hooks"))
import make_hook_loras  # noqa: E402

RECORDING = json.loads((RECORDED / "workflows.json").read_text())
EXTRACTED = json.loads((RECORDED / "extracted.json").read_text())
FILES = {"model": "kiln_extract_model_00001_.safetensors", "clip": "kiln_extract_clip_00001_.safetensors"}


@pytest.fixture(scope="module")
def extracted(reference_server: KilnServer, reference_checkpoint: Path) -> dict:
    """Kiln's extracted files (their tensors) and the latents of the recorded second prompt on them."""
    kiln = running(reference_server)
    loras = kiln.base_dir / "models" / "loras"
    with added_files_removed(kiln.base_dir / "models"), added_files_removed(kiln.base_dir / "output"):
        make_hook_loras.build(reference_checkpoint, loras)
        run_prompt(kiln.url, RECORDING["extract"]["workflow"], timeout=900)
        for name in FILES.values():  # the model's whole difference is 1.7 GB: moved, not copied
            shutil.move(kiln.base_dir / "output" / "loras" / name, loras / name)
        with safe_open(str(loras / FILES["model"]), framework="np") as model_file:
            model_keys = sorted(model_file.keys())
            model_dtypes = {model_file.get_slice(key).get_dtype() for key in model_keys}
        clip = load_file(str(loras / FILES["clip"]))
        use = RECORDING["use"]
        latents = saved_latents(kiln.url, run_prompt(kiln.url, use["workflow"]), use["cases"])
    return {"model_keys": model_keys, "model_dtypes": model_dtypes, "clip": clip, "latents": latents}


def test_the_extracted_loras_give_comfyuis_latent(extracted):
    for case in RECORDING["use"]["cases"]:
        assert_latent_close(extracted["latents"][case], load_file(str(RECORDED / "latents.safetensors"))[case], 1e-4,
                            case)


def test_the_extraction_comes_close_to_the_source_lora(extracted):
    latents = extracted["latents"]
    assert np.abs(latents["extracted"] - latents["source"]).max() < 0.05 * np.abs(latents["source"]).max()


def test_the_files_name_comfyuis_layers(extracted):
    assert extracted["model_keys"] == EXTRACTED["model"]["keys"]
    assert sorted(extracted["clip"]) == EXTRACTED["clip"]["keys"]
    assert extracted["model_dtypes"] == {"F16"} and {value.dtype for value in extracted["clip"].values()} == {np.dtype(np.float16)}


def test_the_text_encoder_layers_carry_comfyuis_products(extracted):
    tensors = extracted["clip"]
    for layer, norm in EXTRACTED["clip"]["norms"].items():
        product = tensors[f"{layer}.lora_up.weight"].astype(np.float32) @ \
            tensors[f"{layer}.lora_down.weight"].astype(np.float32)
        assert abs(float(np.linalg.norm(product)) - norm) <= 1e-3 * max(norm, 1e-3), layer


def test_object_info_entry_equals_comfyuis(reference_server):
    served = json.loads(request(f"{running(reference_server).url}/object_info"))
    assert {"LoraSave": served.get("LoraSave")} == json.loads((RECORDED / "object_info.json").read_text())
