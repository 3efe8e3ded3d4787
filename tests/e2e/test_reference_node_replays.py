"""Issue 18's node replays on the reference SD1.5 checkpoint: ComfyUI 0.3.64's recorded final latents, within 1e-4
of each latent's largest value, and its /object_info entries.

- `patches_guiders` (tools/oracle/record_patch_guider_nodes.py): model patches before KSampler (RescaleCFG, APG,
  PerpNeg, ...) and guiders, samplers and AddNoise through the custom-sampling nodes; two prompts.
- `attention` (tools/oracle/record_attention_nodes.py): the attention multipliers, HyperTile, SAG and PAG; 64x64
  images, 128x128 for HyperTile (whose random tiling needs a latent side with several divisors) and SAG (whose
  middle-block map must be at least 2x2).
- `tome` (tools/oracle/record_tome.py): TomePatchModel's token merging at three ratios and sizes (its destinations
  drawn from torch's global generator, as KSampler's noise preparation left it).
- `compute_dtype` (tools/oracle/record_compute_dtype.py): ModelComputeDtype's fp16, bf16, fp32 and default beside
  the plain model, on zeroed conditionings (see the recorder for why). Kiln's fp16 and bf16 latents equal
  ComfyUI's bit for bit (every layer, norms included, casts its float32 weights to the compute dtype per call;
  the CPU attention rounds its scores to that dtype; oneDNN runs the reduced-precision convolutions), so the
  common 1e-4 tolerance holds them (0.024 at max |x| 240), while the fp16 latent is 0.275 and the bf16 one 2.61
  from the plain float32 one. On the CPU the model's weights are float32, so fp32, default and fp16-then-fp32
  give the plain latent exactly, in ComfyUI as in Kiln.
- `easycache` (tools/oracle/record_easycache.py): EasyCache and LazyCache over 12 steps at thresholds where they
  reuse some steps (3 and 7 of 12 in ComfyUI), and the same run without a cache.
- `differential_diffusion` (tools/oracle/record_differential_diffusion.py): DifferentialDiffusion at strength 1
  and 0.5 on an encoded picture under a ramped noise mask, beside the mask alone.

Every case is a branch of one checkpoint loader in its family's prompt; one shared server runs them all.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes"
FOLDERS = ("patches_guiders", "attention", "tome", "compute_dtype", "easycache", "differential_diffusion")
FAMILIES = {folder: json.loads((FIXTURES / folder / "workflows.json").read_text()) for folder in FOLDERS}
CASES = [(folder, family, case) for folder, families in FAMILIES.items()
         for family, recorded in families.items() for case in recorded["cases"]]
OBJECT_INFO = {folder: json.loads((FIXTURES / folder / "object_info.json").read_text()) for folder in FOLDERS}
LATENT_RTOL = 1e-4


@pytest.fixture(scope="module")
def server(reference_server):
    """The shared reference SD1.5 server (tests/e2e/conftest.py)."""
    return running(reference_server)


@pytest.fixture(scope="module")
def latents(server: KilnServer) -> dict[str, np.ndarray]:
    """{case: Kiln's final latent}, from one run of each recorded prompt."""
    result = {}
    for families in FAMILIES.values():
        for recorded in families.values():
            outputs = run_prompt(server.url, recorded["workflow"])
            result.update(saved_latents(server.url, outputs, recorded["cases"]))
    return result


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_node_of_the_recording_has_a_recorded_run(folder):
    used = {node["class_type"] for recorded in FAMILIES[folder].values() for node in recorded["workflow"].values()}
    assert set(OBJECT_INFO[folder]) <= used


@pytest.mark.parametrize(("folder", "family", "case"), CASES, ids=[case for _, _, case in CASES])
def test_the_branch_reproduces_comfyuis_latent(latents, folder, family, case):
    expected = load_file(str(FIXTURES / folder / "latents.safetensors"))[case]
    assert_latent_close(latents[case], expected, LATENT_RTOL, f"{family}/{case}")


@pytest.mark.parametrize(("case", "distance"), [("compute_dtype_fp16", 0.1), ("compute_dtype_bf16", 1.0)])
def test_a_reduced_compute_dtype_moves_the_latent_while_the_plain_branch_stays_float32(latents, case, distance):
    # ComfyUI's own distances from the plain latent: fp16 0.275, bf16 2.61 (max |x| 240).
    recorded = load_file(str(FIXTURES / "compute_dtype" / "latents.safetensors"))
    assert np.abs(latents[case] - latents["compute_dtype_plain"]).max() > distance
    assert np.abs(recorded[case] - recorded["compute_dtype_plain"]).max() > distance
    for same in ("compute_dtype_fp32", "compute_dtype_default", "compute_dtype_fp16_then_fp32"):
        np.testing.assert_array_equal(latents[same], latents["compute_dtype_plain"])


def test_object_info_entries_equal_comfyuis(server):
    served = json.loads(request(f"{server.url}/object_info"))
    for recorded in OBJECT_INFO.values():
        assert {name: served.get(name) for name in recorded} == recorded


@pytest.mark.parametrize("case", ["easycache_0_2", "lazycache_0_05"])
def test_the_recorded_caches_change_the_latent(case):
    """The recorded thresholds make the cache act: its latent is not the uncached one (so matching it proves the
    reuse, not only the wrappers' presence)."""
    recorded = load_file(str(FIXTURES / "easycache" / "latents.safetensors"))
    difference = np.abs(recorded[case] - recorded["no_cache"]).max()
    assert difference > 0.05 * np.abs(recorded["no_cache"]).max()


@pytest.mark.parametrize("case", ["differential_1_0", "differential_0_5"])
def test_differential_diffusion_changes_the_masked_latent(case):
    """The recorded strengths make the soft mask act: ComfyUI's latent is not the hard mask's."""
    recorded = load_file(str(FIXTURES / "differential_diffusion" / "latents.safetensors"))
    difference = np.abs(recorded[case] - recorded["masked_plain"]).max()
    assert difference > 0.01 * np.abs(recorded["masked_plain"]).max()
