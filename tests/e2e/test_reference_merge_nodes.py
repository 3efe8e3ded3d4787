"""The merge and save nodes of issue 18 write ComfyUI 0.3.64's files (tests/fixtures/comfyui_nodes/merging,
recorded by tools/oracle/record_merge_nodes.py) from the reference SD1.5 checkpoint and a LoRA-patched copy of it:
ModelMergeSimple + CLIPMergeSimple at 0.3 saved by CheckpointSave, ModelMergeBlocks -> ModelMergeSD1 saved by
ModelSave, CLIPMergeAdd of CLIPMergeSubtract saved by CLIPSave, and
VAESave. Every tensor has ComfyUI's name, dtype and shape, its sum within 1e-6 of its sum of magnitudes, and 48
sampled values within 1e-6; the files carry ComfyUI's metadata. The nodes serve ComfyUI's /object_info.

One run of the recorded prompt on the shared reference server (tests/e2e/conftest.py), the LoRA written into its
loras folder (merge_fixture.py builds it from the checkpoint's header); the saved files (about 8 GB) are digested and deleted.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from .conftest import KilnServer, running
from .recorded_runs import request, run_prompt

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "merging"
WORKFLOW = json.loads((RECORDED / "workflow.json").read_text())
FILES = json.loads((RECORDED / "files.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())
TOLERANCE = 1e-6
# SD1 checkpoints have no CLIP text projection. ComfyUI's CLIP-L leaves that Linear as allocated (uninitialised
# memory: zeros in the recording) and CLIPSave writes it; Kiln writes the identity it holds. SD1 never uses it.
UNDEFINED_IN_COMFYUI = {("clip", "text_projection.weight")}


def _merge_fixture():
    spec = importlib.util.spec_from_file_location("merge_fixture", RECORDED / "merge_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(reference_server, reference_checkpoint):
    """The shared reference SD1.5 server (tests/e2e/conftest.py), with the merge LoRA in its loras folder."""
    loras = reference_server.base_dir / "models" / "loras"
    loras.mkdir(parents=True, exist_ok=True)
    _merge_fixture().write(reference_checkpoint, loras / WORKFLOW["10"]["inputs"]["lora_name"])
    return running(reference_server)


@pytest.fixture(scope="module")
def saved(server: KilnServer) -> dict[str, tuple[dict, dict[str, torch.Tensor]]]:
    """{case: digest of the file Kiln saved}, from one run of the recorded prompt; the files are deleted."""
    fixture = _merge_fixture()
    run_prompt(server.url, WORKFLOW, timeout=900)
    digests = {}
    for case, recorded in FILES.items():
        relative = Path(recorded["path"])
        prefix = relative.name.removesuffix("00001_.safetensors")
        written = sorted((server.output_dir / relative.parent).glob(f"{prefix}*_.safetensors"))
        assert written, f"{case}: Kiln wrote no {relative.parent}/{prefix}*_.safetensors"
        digests[case] = fixture.digest(written[-1], magnitudes=False)
        for path in written:
            path.unlink()
    return digests


@pytest.fixture(scope="module")
def expected() -> dict[str, torch.Tensor]:
    return load_file(str(RECORDED / "digests.safetensors"))


@pytest.mark.parametrize("case", list(FILES))
def test_the_saved_file_has_comfyuis_tensor_names_dtypes_and_shapes(saved, case):
    index, _ = saved[case]
    assert index["tensors"] == FILES[case]["tensors"]


@pytest.mark.parametrize("case", list(FILES))
def test_the_saved_file_has_comfyuis_values(saved, expected, case):
    _, values = saved[case]
    worst = 0.0
    for key in FILES[case]["tensors"]:
        if (case, key) in UNDEFINED_IN_COMFYUI:
            continue
        comfy_stats, kiln_stats = expected[f"{case}/{key}/stats"], values[f"{key}/stats"]
        scale = max(float(comfy_stats[1]), 1.0)
        assert abs(float(kiln_stats[0] - comfy_stats[0])) <= TOLERANCE * scale, f"{case} {key}: sum"
        difference = (values[f"{key}/samples"] - expected[f"{case}/{key}/samples"]).abs().max()
        worst = max(worst, float(difference))
        assert difference <= TOLERANCE, f"{case} {key}: sampled values differ by {float(difference)}"
    print(f"{case}: largest sampled difference {worst:.3g}")


@pytest.mark.parametrize("case", list(FILES))
def test_the_saved_file_has_comfyuis_metadata(saved, case):
    index, _ = saved[case]
    metadata, recorded = dict(index["metadata"]), dict(FILES[case]["metadata"])
    assert json.loads(metadata.pop("prompt")) == json.loads(recorded.pop("prompt"))
    assert metadata == recorded


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(request(f"{server.url}/object_info"))
    assert {name: served.get(name) for name in OBJECT_INFO} == OBJECT_INFO
