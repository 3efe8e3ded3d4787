"""ComfyUI's DiT block replacements on the reduced reference SD3 and FLUX.1-dev give ComfyUI 0.3.64's numbers, run
in process from the recorded prompts: SD3's conditioning from the checkpoint's own CLIP-L + CLIP-G, FLUX.1's from
ComfyUI's T5 output of the same prompt (the fixtures' flux_t5_probe), within the flow cases' tolerances (1e-4;
FLUX.1 1e-3, T5's run-to-run spread).

- Skip Layer Guidance (SkipLayerGuidanceSD3, SkipLayerGuidanceDiT, SkipLayerGuidanceDiTSimple):
  tests/fixtures/comfyui_nodes/skip_layer_guidance, recorded by tools/oracle/record_skip_layer_guidance.py.
- A pack's replacements (tests/e2e/custom_nodes/kiln-test-nodes/dit_block_patches.py: run the original block, keep
  part of its change): tests/fixtures/comfyui_nodes/dit_blocks, recorded by tools/oracle/record_dit_block_patches.py,
  the arguments each block's replacement is given and the final latents."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import comfy.sd
import nodes
from comfy_extras.nodes_flux import FluxGuidance
from comfy_extras.nodes_sd3 import EmptySD3LatentImage, SkipLayerGuidanceSD3
from comfy_extras.nodes_slg import SkipLayerGuidanceDiT, SkipLayerGuidanceDiTSimple
from tests.conftest import FIXTURES

RECORDED = FIXTURES.parent / "comfyui_nodes" / "skip_layer_guidance"
WORKFLOWS = json.loads((RECORDED / "workflows.json").read_text())
PACK_RECORDED = FIXTURES.parent / "comfyui_nodes" / "dit_blocks"
PACK_WORKFLOWS = json.loads((PACK_RECORDED / "workflows.json").read_text())
_probe_spec = importlib.util.spec_from_file_location(
    "kiln_dit_block_probe", Path(__file__).resolve().parents[1] / "e2e" / "custom_nodes" / "kiln-test-nodes"
    / "dit_block_patches.py")
PROBE = importlib.util.module_from_spec(_probe_spec)
_probe_spec.loader.exec_module(PROBE)
LATENT_RTOL = {"sd3": 1e-4, "flux": 1e-3}
PATCH_NODES = {node.__name__: node for node in (SkipLayerGuidanceSD3, SkipLayerGuidanceDiT, SkipLayerGuidanceDiTSimple)}


@pytest.fixture(scope="module")
def latents() -> dict[str, torch.Tensor]:
    return load_file(str(RECORDED / "latents.safetensors"))


@pytest.fixture(scope="module")
def sd3(flow_reference_models):
    """The SD3 checkpoint's model and its prompts' conditioning (CLIP-L + CLIP-G from the checkpoint)."""
    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(
        str(flow_reference_models / "checkpoints" / "ref-sd3.safetensors"))
    prompt = WORKFLOWS["sd3"]["workflow"]
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    return model, encode.encode(clip, prompt["2"]["inputs"]["text"])[0], encode.encode(clip, prompt["3"]["inputs"]["text"])[0]


@pytest.fixture(scope="module")
def flux(flow_reference_models):
    """FLUX.1-dev and "a photo of a cat" as ComfyUI's T5 / CLIP-L encoded it, guidance 3.5, and the zeroed negative."""
    model = comfy.sd.load_diffusion_model(str(flow_reference_models / "diffusion_models" / "ref-flux-dev.safetensors"))
    probe = load_file(str(FIXTURES / "flux_t5_probe.safetensors"))
    encoded = [[probe["t5_cond"], {"pooled_output": probe["clip_l_pooled"]}]]
    negative = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out(encoded)[0]
    return model, FluxGuidance.execute(encoded, 3.5).result[0], negative


def _replay(family: str, case: str, model, positive: list, negative: list) -> torch.Tensor:
    """The case's branch of the recorded prompt: its patch node on the loaded model, then its KSampler."""
    prompt = WORKFLOWS[family]["workflow"]
    sampler = prompt[prompt[WORKFLOWS[family]["cases"][case]]["inputs"]["samples"][0]]["inputs"]
    patch = prompt.get(sampler["model"][0])
    if patch["class_type"] in PATCH_NODES:
        options = {name: value for name, value in patch["inputs"].items() if name != "model"}
        model = PATCH_NODES[patch["class_type"]].execute(model=model, **options).result[0]
    return _sample(model, sampler, positive, negative)


def _sample(model, sampler: dict, positive: list, negative: list) -> torch.Tensor:
    """A recorded KSampler's run (its inputs `sampler`) on an empty 64x64 latent: the final latent."""
    latent = EmptySD3LatentImage.execute(64, 64, 1).result[0]
    with torch.inference_mode():
        return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(
            model, sampler["seed"], sampler["steps"], sampler["cfg"], sampler["sampler_name"], sampler["scheduler"],
            positive, negative, latent, denoise=sampler["denoise"])[0]["samples"]


def _relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual - expected).abs().max() / expected.abs().max())


@pytest.mark.parametrize("case", list(WORKFLOWS["sd3"]["cases"]))
def test_sd3_case_reproduces_comfyuis_latent(sd3, latents, case):
    error = _relative_error(_replay("sd3", case, *sd3), latents[case])
    print(f"{case}: max|d| / max|ref| = {error:.2e}")
    assert error <= LATENT_RTOL["sd3"]


@pytest.mark.parametrize("case", list(WORKFLOWS["flux"]["cases"]))
def test_flux_case_reproduces_comfyuis_latent(flux, latents, case):
    error = _relative_error(_replay("flux", case, *flux), latents[case])
    print(f"{case}: max|d| / max|ref| = {error:.2e}")
    assert error <= LATENT_RTOL["flux"]


def test_each_guidance_changes_the_result(latents):
    """The recorded cases differ from the unpatched run: skipping the blocks did something in ComfyUI too."""
    for case in ("sd3_slg_sd3", "sd3_slg_dit_window", "sd3_slg_dit_simple"):
        assert _relative_error(latents[case], latents["sd3_plain"]) > 1e-2, case


def test_no_layers_leave_the_model_as_it_is(sd3):
    model = sd3[0]
    assert SkipLayerGuidanceDiT.execute(model, 3.0, 0.0, 1.0, double_layers=", ", single_layers="").result[0] is model
    assert SkipLayerGuidanceDiTSimple.execute(model, 0.0, 1.0, double_layers="", single_layers="").result[0] is model


@pytest.mark.parametrize("family", list(PACK_WORKFLOWS))
def test_a_packs_block_replacements_get_comfyuis_arguments_and_give_its_latent(sd3, flux, family):
    """What each replacement is given (argument names; img / txt / vec shapes; cond_or_uncond; sigmas) equals what
    ComfyUI gave it, and the latent after keeping part of each block's change equals ComfyUI's."""
    recorded = PACK_WORKFLOWS[family]
    prompt = recorded["workflow"]
    probe_inputs = {name: value for name, value in prompt["100"]["inputs"].items() if name != "model"}
    model, positive, negative = sd3 if family == "sd3" else flux
    patched = PROBE.DitBlockProbe().patch(model, **probe_inputs)[0]
    samples = _sample(patched, prompt["101"]["inputs"], positive, negative)

    expected_notes = json.loads((PACK_RECORDED / "probe_notes.json").read_text())[family]
    assert PROBE.DitBlockReport().report(None, family)["ui"]["notes"] == expected_notes
    expected = load_file(str(PACK_RECORDED / "latents.safetensors"))[f"{family}_probe"]
    error = _relative_error(samples, expected)
    print(f"{family}: max|d| / max|ref| = {error:.2e}")
    assert error <= LATENT_RTOL[family]
