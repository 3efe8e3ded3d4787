"""Chroma (comfy.families.chroma, comfy.model_base.Chroma): detection on full-size layouts, loading through
diffusers' converter, and the network's output against ComfyUI 0.3.64's recorded one
(tests/fixtures/comfyui_image/chroma/network.*, tools/oracle/record_chroma.py)."""

import json
import math
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import comfy.latent_formats
import comfy.model_base
import comfy.sd
from comfy import families
from comfy.families import chroma, flux
from comfy.families.base import ModelDetectionError, WeightLoadError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_image"
sys.path.insert(0, str(FIXTURES))
import make_chroma_files  # noqa: E402

FULL_SIZE = {"in_channels": 16, "out_channels": 16, "patch_size": 2, "hidden_size": 3072, "head_dim": 128,
             "mlp_ratio": 4.0, "depth": 19, "depth_single_blocks": 38, "context_in_dim": 4096, "in_dim": 64,
             "hidden_dim": 5120, "out_dim": 3072, "n_layers": 5}


def _meta(layout: dict, prefix: str = "", dtype: torch.dtype = torch.bfloat16) -> dict[str, torch.Tensor]:
    return {prefix + key: torch.empty(shape, device="meta", dtype=dtype) for key, shape in layout.items()}


def _scaled_fp8(layout: dict) -> dict[str, torch.Tensor]:
    """ComfyUI's scaled_fp8 layout (Chroma1-HD-fp8_scaled_rev2): fp8 matrices with a scalar scale_weight each."""
    out = {"scaled_fp8": torch.empty(0, dtype=torch.float8_e4m3fn, device="meta")}
    for key, shape in layout.items():
        if len(shape) == 2:
            out[key] = torch.empty(shape, dtype=torch.float8_e4m3fn, device="meta")
            out[key[:-len("weight")] + "scale_weight"] = torch.empty((), device="meta")
        else:
            out[key] = torch.empty(shape, dtype=torch.bfloat16, device="meta")
    return out


@pytest.mark.parametrize("prefix", ["", "model.diffusion_model."])
def test_a_full_size_chroma_is_detected_as_comfyuis_chroma_with_its_sizes(prefix):
    state_dict = _meta(chroma.original_layout(FULL_SIZE), prefix)
    found = families.detect(state_dict, families.diffusion_model_prefix(state_dict))
    assert (found.name, found.comfy_class, found.architecture, found.prediction_type, found.exact,
            found.unet_prefix) == ("Chroma", "Chroma", "chroma", "flux", True, prefix)
    config = found.unet_config
    assert (config["depth"], config["depth_single_blocks"], config["num_heads"], config["hidden_dim"],
            config["n_layers"], config["axes_dim"], config["scaled_fp8"]) == (19, 38, 24, 5120, 5, [16, 56, 56], False)
    description = families.get(found)
    assert (description.latent_format, description.sampling_settings, description.model_class,
            description.clip_type) == ("Flux", {"multiplier": 1.0}, "Chroma", "chroma")


def test_a_scaled_fp8_chroma_is_detected_and_flux_is_still_flux():
    found = families.detect(_scaled_fp8(chroma.original_layout(FULL_SIZE)), "")
    assert (found.name, found.exact, found.unet_config["scaled_fp8"]) == ("Chroma", True, True)
    flux_config = {**FULL_SIZE, "vec_in_dim": 768, "guidance_embed": False}
    assert families.detect(_meta(flux.original_layout(flux_config)), "").name == "FluxSchnell"


def test_chroma_radiance_is_refused_by_name():
    layout = _meta(chroma.original_layout(FULL_SIZE))
    del layout["img_in.weight"], layout["img_in.bias"]
    layout["nerf_blocks.0.norm.scale"] = torch.empty(64, device="meta")
    with pytest.raises(ModelDetectionError, match="Chroma Radiance"):
        families.detect(layout, "")


def _model(state_dict: dict[str, torch.Tensor]) -> comfy.model_base.Chroma:
    found = families.detect(state_dict, families.diffusion_model_prefix(state_dict))
    network = chroma.load(state_dict, found, families.get(found), "ref-chroma.safetensors")
    return comfy.model_base.Chroma(network, latent_format=comfy.latent_formats.Flux(), family="Chroma",
                                   model_config=families.get(found))


def _outputs(model: comfy.model_base.Chroma, recorded: dict, name: str, case: dict) -> torch.Tensor:
    x, context = recorded[f"{name}.x"], recorded[f"{name}.context"]
    conds = model.extra_conds(context, {"guidance": case["guidance"]} if case["guidance"] else {}, x)
    conds["c_crossattn"] = context  # the whole batch (the sampler repeats batch-1 conds)
    conds["guidance"] = conds["guidance"].expand(x.shape[0])
    with torch.no_grad():
        return model.run_network(x, torch.full((x.shape[0],), case["sigma"]), conds, torch.float32)


def test_the_network_matches_comfyuis_chroma_within_1e_4_of_its_largest_value():
    recorded = load_file(FIXTURES / "chroma" / "network.safetensors")
    cases = json.loads((FIXTURES / "chroma" / "network.json").read_text())["cases"]
    model = _model(make_chroma_files.state_dict("model.diffusion_model."))
    assert model.diffusion_model.time_text_embed.mod_proj.shape == (344, 32)  # ComfyUI's rows, whatever the depth
    for name, case in cases.items():
        expected = recorded[f"{name}.output"]
        output = _outputs(model, recorded, name, case)
        assert output.shape == expected.shape, name
        error = (output - expected).abs().max().item()
        assert error <= 1e-4 * expected.abs().max().item(), f"{name}: {error}"
    # the guidance value reaches the approximator
    guided = dict(cases["square"], guidance=4.0)
    assert (_outputs(model, recorded, "square", guided) - recorded["square.output"]).abs().max() > 1e-2


def test_a_scaled_fp8_file_loads_as_its_weights_times_their_scales():
    state_dict = make_chroma_files.state_dict()
    scaled = make_chroma_files.scaled_fp8(state_dict)
    found = families.detect(scaled, "")
    network = chroma.load(scaled, found, families.get(found), "ref-chroma-fp8.safetensors", dtype=torch.float32)
    weight = network.state_dict()["context_embedder.weight"]
    expected = scaled["txt_in.weight"].float() * scaled["txt_in.scale_weight"]
    assert torch.equal(weight, expected)
    assert (weight - state_dict["txt_in.weight"]).abs().max() < 0.1 * state_dict["txt_in.weight"].abs().max()


def test_a_missing_weight_is_named_and_the_key_table_covers_every_file_key():
    state_dict = make_chroma_files.state_dict()
    found = families.detect(state_dict, "")
    network = chroma.load(state_dict, found, families.get(found), "ref-chroma.safetensors")
    table = chroma.key_table(network)
    assert set(table) == set(state_dict)
    del state_dict["distilled_guidance_layer.norms.1.scale"]
    with pytest.raises(WeightLoadError, match=r"ref-chroma.safetensors.*distilled_guidance_layer\.norms\.1\.scale"):
        chroma.load(state_dict, found, families.get(found), "ref-chroma.safetensors")


def test_unetloader_builds_a_chroma_model_on_comfyuis_flux_schedule(tmp_path):
    path = tmp_path / "ref-chroma.safetensors"
    make_chroma_files.write(str(path))
    patcher = comfy.sd.load_diffusion_model(str(path))
    model = patcher.model
    assert type(model).__name__ == "Chroma" and model.model_type == comfy.model_base.ModelType.FLUX
    sampling = model.model_sampling
    assert float(sampling.timestep(torch.tensor(0.5))) == pytest.approx(0.5)  # multiplier 1
    shift = 1.15  # ModelSamplingFlux's default: Chroma's sampling_settings give none
    assert float(sampling.sigma(torch.tensor(0.5))) == pytest.approx(math.exp(shift) / (math.exp(shift) + 1))


def test_lora_names_in_comfyuis_and_kohyas_naming_reach_every_chroma_weight(tmp_path):
    import comfy.lora

    path = tmp_path / "ref-chroma.safetensors"
    make_chroma_files.write(str(path))
    keys = comfy.lora.model_lora_keys_unet(comfy.sd.load_diffusion_model(str(path)).model, {})
    matrices = [key[:-len(".weight")] for key, shape in make_chroma_files.layout().items() if len(shape) == 2]
    for name in matrices:
        assert f"diffusion_model.{name}" in keys and f"lora_unet_{name.replace('.', '_')}" in keys, name
    assert keys["diffusion_model.distilled_guidance_layer.layers.1.in_layer"] == \
        "diffusion_model.distilled_guidance_layer.layers.1.linear_1.weight"
