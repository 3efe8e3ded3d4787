"""Skip Layer Guidance (SkipLayerGuidanceSD3, SkipLayerGuidanceDiT, SkipLayerGuidanceDiTSimple) gives ComfyUI
0.3.64's final latents on the reduced reference SD3 and FLUX.1-dev (tests/fixtures/comfyui_nodes/
skip_layer_guidance, recorded by tools/oracle/record_skip_layer_guidance.py), run in process from the recorded
prompts: SD3's from the checkpoint's own CLIP-L + CLIP-G, FLUX.1's from ComfyUI's T5 output of the same prompt
(the fixtures' flux_t5_probe), within the flow cases' tolerances (1e-4; FLUX.1 1e-3, T5's run-to-run spread)."""

from __future__ import annotations

import json

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
