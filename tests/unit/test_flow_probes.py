"""Kiln's FLUX.1, SD3 and 16-channel VAE against ComfyUI's recorded numbers on the reference flow files.

The files (random weights, rebuilt byte for byte by the fixtures' `make_flow_checkpoints.py`) come from
`KILN_FLOW_REF` (a ComfyUI-style models folder holding them) or are built once per test session by the shared
`flow_reference_models` fixture (tests/conftest.py). Probes: `flow_model_probes.*` (single network calls,
max|d| / max|ref| <= 1e-4); end-to-end: the `e2e_flow/` cases recomputed in-process from their recorded
conditioning (ComfyUI's T5 / CLIP output), each within its own `tolerances` entry.
"""

import json

import pytest
import torch
from safetensors.torch import load_file

import comfy.sd
import nodes
from comfy_extras.nodes_easycache import EasyCacheNode, LazyCacheNode
from comfy_extras.nodes_flux import FluxDisableGuidance
from comfy_extras.nodes_model_advanced import ModelSamplingSD3
from comfy_extras.nodes_sd3 import EmptySD3LatentImage
from tests.conftest import FIXTURES

PROBE_TOLERANCE = 1e-4
# README §16: the decoded float image, max|d| (not in the cases' own `tolerances`).
IMAGE_FLOAT_TOLERANCE = {"sd3": 1e-4, "flux": 2e-3}
# file id (flux_keys.json / sd3_keys.json) -> path under models/
REFERENCE_FILES = {
    "flux-dev-model": "diffusion_models/ref-flux-dev.safetensors",
    "flux-schnell-model": "diffusion_models/ref-flux-schnell.safetensors",
    "sd3-mmdit": "diffusion_models/ref-sd3-mmdit.safetensors",
    "vae": "vae/ref-vae16.safetensors",
    "sd3-checkpoint": "checkpoints/ref-sd3.safetensors",
}


@pytest.fixture(scope="module")
def probes():
    return load_file(str(FIXTURES / "flow_model_probes.safetensors"))


@pytest.fixture(scope="module")
def t5_probe():
    return load_file(str(FIXTURES / "flux_t5_probe.safetensors"))


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual.float() - expected).abs().max() / expected.abs().max())


@pytest.fixture(scope="module")
def flux_models(flow_reference_models):
    return {name: comfy.sd.load_diffusion_model(str(flow_reference_models / REFERENCE_FILES[f"{name}-model"]))
            for name in ("flux-dev", "flux-schnell")}


@pytest.fixture(scope="module")
def sd3_models(flow_reference_models):
    from_parts = comfy.sd.load_diffusion_model(str(flow_reference_models / REFERENCE_FILES["sd3-mmdit"]))
    checkpoint = flow_reference_models / REFERENCE_FILES["sd3-checkpoint"]
    model, _, vae, _ = comfy.sd.load_checkpoint_guess_config(str(checkpoint), output_clip=False)
    return {"parts": from_parts, "checkpoint": model, "checkpoint_vae": vae}


# --- single calls --------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["flux-dev", "flux-schnell"])
def test_flux_transformer_and_apply_model_match_comfyui(flux_models, probes, t5_probe, variant):
    model = flux_models[variant].model
    conds = {"c_crossattn": t5_probe["t5_cond"], "y": t5_probe["clip_l_pooled"]}
    if variant == "flux-dev":
        conds["guidance"] = torch.tensor([3.5])
    name = variant.replace("-", "_")
    with torch.inference_mode():
        for suffix, x in (("", probes["x"]), ("_8x12", probes["x_8x12"])):
            raw = model.run_network(x, torch.tensor([0.75]), conds, torch.float32)
            assert relative_error(raw, probes[f"{name}_raw_t0.75{suffix}"]) <= PROBE_TOLERANCE
        denoised = model.apply_model(probes["x"], torch.tensor([0.75]), **conds)
    assert relative_error(denoised, probes[f"{name}_apply_model_sigma0.75"]) <= PROBE_TOLERANCE


def test_flux_dev_uses_guidance_3_5_when_the_conditioning_has_none(flux_models, probes, t5_probe):
    model = flux_models["flux-dev"].model
    conds = model.extra_conds(t5_probe["t5_cond"], {"pooled_output": t5_probe["clip_l_pooled"]}, probes["x"])
    with torch.inference_mode():
        denoised = model.apply_model(probes["x"], torch.tensor([0.75]), **conds)
    assert relative_error(denoised, probes["flux_dev_apply_model_sigma0.75"]) <= PROBE_TOLERANCE


@pytest.mark.parametrize("source", ["parts", "checkpoint"])
def test_sd3_mmdit_and_apply_model_match_comfyui(sd3_models, probes, source):
    model = sd3_models[source].model
    case = load_file(str(FIXTURES / "e2e_flow" / "sd3_euler_simple.safetensors"))
    conds = {"c_crossattn": case["cond_positive"], "y": case["pooled_positive"]}
    with torch.inference_mode():
        for suffix, x in (("", probes["x"]), ("_8x12", probes["x_8x12"])):
            raw = model.run_network(x, torch.tensor([750.0]), conds, torch.float32)
            assert relative_error(raw, probes[f"sd3_raw_t750{suffix}"]) <= PROBE_TOLERANCE
        denoised = model.apply_model(probes["x"], torch.tensor([0.75]), **conds)
    assert relative_error(denoised, probes["sd3_apply_model_sigma0.75"]) <= PROBE_TOLERANCE


def test_vae16_decode_and_encode_match_comfyui_from_the_vae_file_and_the_sd3_checkpoint(
        flow_reference_models, sd3_models, probes):
    vae = comfy.sd.load_vae(str(flow_reference_models / REFERENCE_FILES["vae"]))
    assert relative_error(vae.decode(probes["x"]), probes["vae_decode_image"]) <= PROBE_TOLERANCE
    assert relative_error(vae.encode(probes["vae_encode_image"]), probes["vae_encode_latent"]) <= PROBE_TOLERANCE
    assert torch.equal(sd3_models["checkpoint_vae"].decode(probes["x"]), vae.decode(probes["x"]))


# --- end-to-end, in process ------------------------------------------------------------------------------


def run_case(case: str, model, vae, positive, negative) -> None:
    """KSampler → VAEDecode with the case's parameters; the latent and the image within its tolerances."""
    expected = load_file(str(FIXTURES / "e2e_flow" / f"{case}.safetensors"))
    recorded = json.loads((FIXTURES / "e2e_flow" / f"{case}.json").read_text())
    parameters, tolerances = recorded["parameters"], recorded["tolerances"]
    if "model_sampling_sd3_shift" in parameters:
        model = ModelSamplingSD3().patch(model, parameters["model_sampling_sd3_shift"])[0]
    latent = EmptySD3LatentImage().generate(parameters["width"], parameters["height"], parameters["batch_size"])[0]
    with torch.inference_mode():
        samples = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(
            model, parameters["seed"], parameters["steps"], parameters["cfg"], parameters["sampler_name"],
            parameters["scheduler"], positive, negative, latent, denoise=parameters["denoise"])[0]
        image = nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, samples)[0]
    assert relative_error(samples["samples"], expected["latent"]) <= tolerances["latent_rtol"]
    family = "flux" if case.startswith("flux") else "sd3"
    assert (image - expected["image_float"]).abs().max() <= IMAGE_FLOAT_TOLERANCE[family]
    pixels = (255.0 * image).clamp(0, 255).to(torch.uint8).int()
    difference = (pixels - expected["image"].int()).abs()
    assert difference.max() <= tolerances["image_max_abs"]
    assert difference.float().mean() <= tolerances["image_mean_abs"]


@pytest.mark.parametrize("case", ["sd3_euler_simple", "sd3_dpmpp_2m_sgm_uniform", "sd3_parts_euler_simple"])
def test_sd3_cases_reproduce_comfyuis_latent_and_image(flow_reference_models, sd3_models, case):
    # The separate-files case has the single-file case's conditioning (bit-equal, stored once).
    recorded = load_file(str(FIXTURES / "e2e_flow" / f"{case.replace('_parts', '')}.safetensors"))
    positive = [[recorded["cond_positive"], {"pooled_output": recorded["pooled_positive"]}]]
    negative = [[recorded["cond_negative"], {"pooled_output": recorded["pooled_negative"]}]]
    if case == "sd3_parts_euler_simple":
        vae = comfy.sd.load_vae(str(flow_reference_models / REFERENCE_FILES["vae"]))
        run_case(case, sd3_models["parts"], vae, positive, negative)
    else:
        run_case(case, sd3_models["checkpoint"], sd3_models["checkpoint_vae"], positive, negative)


@pytest.mark.parametrize("variant", ["flux-schnell", "flux-dev"])
def test_flux_cases_reproduce_comfyuis_latent_and_image(flow_reference_models, flux_models, t5_probe, variant):
    case = f"{variant.replace('-', '_')}_euler_simple"
    recorded = load_file(str(FIXTURES / "e2e_flow" / f"{case}.safetensors"))
    assert torch.equal(recorded["pooled_positive"], t5_probe["clip_l_pooled"])
    options = {"pooled_output": t5_probe["clip_l_pooled"]}
    if variant == "flux-dev":
        options["guidance"] = 3.5
    positive = [[t5_probe["t5_cond"], options]]
    negative = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out(positive)[0]
    vae = comfy.sd.load_vae(str(flow_reference_models / REFERENCE_FILES["vae"]))
    run_case(case, flux_models[variant], vae, positive, negative)


def test_the_sd3_checkpoint_reproduces_comfyuis_case_from_its_prompts(flow_reference_models):
    """CheckpointLoaderSimple's whole SD3 file: its CLIP-L + CLIP-G (no T5) encode the prompts, then the case."""
    checkpoint = flow_reference_models / REFERENCE_FILES["sd3-checkpoint"]
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(checkpoint))
    recorded = json.loads((FIXTURES / "e2e_flow" / "sd3_euler_simple.json").read_text())["parameters"]
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, recorded["positive"])[0], encode.encode(clip, recorded["negative"])[0]
    run_case("sd3_euler_simple", model, vae, positive, negative)


@pytest.mark.parametrize("case", ["cfg1", "cfg2"])
def test_flux_dev_without_guidance_reproduces_comfyuis_latent(flux_models, t5_probe, case):
    """FluxDisableGuidance on the positive: Flux dev runs without its guidance term; at cfg 2 the zeroed negative
    keeps the default guidance, so cond and uncond differ in having one (ComfyUI runs them apart)."""
    recorded = FIXTURES.parent / "comfyui_nodes" / "flux_disable_guidance"
    workflow = json.loads((recorded / "workflow.json").read_text())
    sampler = workflow["workflow"][workflow["workflow"][workflow["cases"][case]]["inputs"]["samples"][0]]["inputs"]
    encoded = [[t5_probe["t5_cond"], {"pooled_output": t5_probe["clip_l_pooled"]}]]
    negative = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out(encoded)[0]

    def sample(positive: list) -> torch.Tensor:
        latent = EmptySD3LatentImage().generate(64, 64, 1)[0]
        with torch.inference_mode():
            return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(
                flux_models["flux-dev"], sampler["seed"], sampler["steps"], sampler["cfg"], sampler["sampler_name"],
                sampler["scheduler"], positive, negative, latent, denoise=sampler["denoise"])[0]["samples"]

    without_guidance = sample(FluxDisableGuidance.execute(encoded).result[0])
    # the probe's T5 conditioning is another of ComfyUI's runs: the flux case's tolerance (T5's run-to-run spread)
    tolerance = json.loads((FIXTURES / "e2e_flow" / "flux_dev_euler_simple.json").read_text())["tolerances"]
    expected = load_file(str(recorded / "latents.safetensors"))[case]
    assert relative_error(without_guidance, expected) <= tolerance["latent_rtol"]
    assert relative_error(without_guidance, sample(encoded)) > 1e-2  # the default guidance 3.5 made a difference


@pytest.fixture(scope="module")
def easycache_flux_runs(flux_models, t5_probe):
    """{case: Kiln's final latent} of tools/oracle/record_easycache_flux.py's prompt, run from the probe's
    conditioning."""
    recorded = json.loads((FIXTURES.parent / "comfyui_nodes" / "easycache_flux" / "workflow.json").read_text())
    prompt = recorded["workflow"]
    encoded = [[t5_probe["t5_cond"], {"pooled_output": t5_probe["clip_l_pooled"]}]]
    negative = nodes.NODE_CLASS_MAPPINGS["ConditioningZeroOut"]().zero_out(encoded)[0]
    caches = {"EasyCache": EasyCacheNode, "LazyCache": LazyCacheNode}
    runs = {}
    for case, save in recorded["cases"].items():
        sampler = prompt[prompt[save]["inputs"]["samples"][0]]["inputs"]
        model = flux_models["flux-dev"]
        cache = prompt.get(sampler["model"][0])
        if cache["class_type"] in caches:
            options = {name: value for name, value in cache["inputs"].items() if name != "model"}
            model = caches[cache["class_type"]].execute(model, **options).result[0]
        latent = EmptySD3LatentImage().generate(64, 64, 1)[0]
        with torch.inference_mode():
            runs[case] = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(
                model, sampler["seed"], sampler["steps"], sampler["cfg"], sampler["sampler_name"],
                sampler["scheduler"], encoded, negative, latent, denoise=sampler["denoise"])[0]["samples"]
    return runs


@pytest.mark.parametrize("case", ["no_cache", "easycache_0_5", "lazycache_0_2"])
def test_flux_dev_with_easycache_and_lazycache_reproduces_comfyuis_latent(easycache_flux_runs, case):
    """EasyCache (0.5) and LazyCache (0.2) on Flux dev over 10 steps reuse 2 and 3 steps in ComfyUI; Kiln's latents
    match its recorded ones, and differ from the uncached run (so the caches act)."""
    recorded = load_file(str(FIXTURES.parent / "comfyui_nodes" / "easycache_flux" / "latents.safetensors"))
    # the probe's T5 conditioning is another of ComfyUI's runs: the flux case's tolerance (T5's run-to-run spread)
    tolerance = json.loads((FIXTURES / "e2e_flow" / "flux_dev_euler_simple.json").read_text())["tolerances"]
    assert relative_error(easycache_flux_runs[case], recorded[case]) <= tolerance["latent_rtol"]
    if case != "no_cache":
        assert relative_error(recorded[case], recorded["no_cache"]) > 0.05
        assert relative_error(easycache_flux_runs[case], easycache_flux_runs["no_cache"]) > 0.05
