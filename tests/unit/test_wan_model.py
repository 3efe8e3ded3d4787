"""Wan 2.1 / 2.2 transformers (comfy.families.wan, comfy.model_base.WAN21 / WAN22): detection on the full-size
layouts ComfyUI's own WanModel has (meta tensors), clear errors for what Kiln refuses, and the reduced models of
tests/fixtures/comfyui_video/make_wan_files.py replayed against ComfyUI 0.3.64's numbers
(tools/oracle/record_wan_model.py): the raw network, apply_model with the conds extra_conds makes (I2V / FLF2V
picture latent, mask and CLIP-vision tokens; the 5B's per-frame timesteps from a denoise mask), and 2-step
KSampler runs. Tolerance: 1e-4 of the largest absolute value (float32 compute on float16 files)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

import comfy.latent_formats
import comfy.sample
import comfy.sd
from comfy import families
from comfy.families import wan
from comfy.families.base import ModelDetectionError, WeightLoadError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_video"
sys.path.insert(0, str(FIXTURES))
import make_wan_files  # noqa: E402

RECORDED = FIXTURES / "wan_model"
LAYOUTS = json.loads((RECORDED / "layouts.json").read_text())
FACTS = json.loads((RECORDED / "probes.json").read_text())
PROBES = load_file(str(RECORDED / "probes.safetensors"))
PREFIXES = ("", "model.diffusion_model.")

# Kiln's family for each full-size layout (ComfyUI runs FLF2V as its WAN21_I2V class)
EXPECTED_FAMILY = {
    "wan2.1_t2v_1.3B": "WAN21_T2V", "wan2.1_t2v_14B": "WAN21_T2V", "wan2.1_i2v_480p_14B": "WAN21_I2V",
    "wan2.1_i2v_720p_14B": "WAN21_I2V", "wan2.1_flf2v_720p_14B": "WAN21_FLF2V",
    "wan2.1_fun_control_1.3B": "WAN21_FunControl2V", "wan2.2_t2v_high_noise_14B": "WAN21_T2V",
    "wan2.2_i2v_low_noise_14B": "WAN21_T2V", "wan2.2_ti2v_5B": "WAN22_T2V",
}


def full_size_layout(name: str, prefix: str = "") -> dict[str, torch.Tensor]:
    """A recorded full-size layout as meta tensors under `prefix`."""
    layout = LAYOUTS[name]
    shapes = dict(layout["keys"])
    for index in range(layout["num_layers"]):
        shapes.update({f"blocks.{index}.{key}": shape for key, shape in layout["block"].items()})
    return {prefix + key: torch.empty(shape, device="meta") for key, shape in shapes.items()}


def assert_close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    assert actual.shape == expected.shape, what
    error = float((actual.detach().float() - expected).abs().max())
    assert error <= 1e-4 * float(expected.abs().max()), f"{what}: max error {error}"


@pytest.mark.parametrize("prefix", PREFIXES, ids=("bare", "prefixed"))
@pytest.mark.parametrize("name", sorted(EXPECTED_FAMILY))
def test_full_size_wan_layouts_are_detected_as_comfyui_detects_them(name: str, prefix: str) -> None:
    found = families.detect(full_size_layout(name, prefix))
    assert found.name == EXPECTED_FAMILY[name]
    assert found.comfy_class == LAYOUTS[name]["comfyui_class"][prefix or "bare"]
    assert found.unet_prefix == prefix and found.exact and found.architecture == "wan"
    config = found.unet_config
    assert config["num_heads"] == config["dim"] // 128 and config["num_layers"] == LAYOUTS[name]["num_layers"]
    # the layout Kiln checks files against is ComfyUI's, key for key and shape for shape
    assert wan.original_layout(config) == {key[len(prefix):]: tuple(value.shape)
                                           for key, value in full_size_layout(name, prefix).items()}


def test_wan_families_carry_comfyui_sampling_latent_and_text_encoder_facts() -> None:
    for family in wan.FAMILIES:
        assert family.sampling_settings == {"shift": 8.0, "multiplier": 1000.0}
        assert family.clip_type == "wan" and family.clip_loader_options == (("CLIPLoader", "wan"),)
        assert [part.kind for part in family.text_encoders] == ["umt5xxl"]
    assert families.get("WAN22_T2V").latent_format == "Wan22" and families.get("WAN21_I2V").latent_format == "Wan21"
    assert families.families_built_by("CLIPLoader", "wan")
    for variant, facts in FACTS["variants"].items():
        assert (facts["shift"], facts["multiplier"]) == (8.0, 1000.0), variant


@pytest.mark.parametrize(("marker", "variant"), [
    ("vace_patch_embedding.weight", "VACE"), ("control_adapter.conv.weight", "Camera"),
    ("casual_audio_encoder.encoder.final_linear.weight", "Speech-to-video"),
    ("audio_proj.audio_proj_glob_1.layer.bias", "HuMo"), ("face_adapter.fuser_blocks.0.k_norm.weight", "Animate"),
])
def test_unsupported_wan_variants_are_refused_by_name(marker: str, variant: str) -> None:
    layout = full_size_layout("wan2.1_t2v_1.3B")
    layout[marker] = torch.empty(8, device="meta")
    with pytest.raises(ModelDetectionError, match=variant):
        families.detect(layout)


def test_a_truncated_or_damaged_wan_file_gives_a_clear_error(tmp_path: Path) -> None:
    layout = full_size_layout("wan2.1_t2v_1.3B")
    del layout["head.head.weight"]
    with pytest.raises(ModelDetectionError, match="head.head.weight"):
        families.detect(layout)
    tensors = make_wan_files.state_dict("t2v")
    tensors["blocks.1.ffn.2.weight"] = tensors["blocks.1.ffn.2.weight"][:, :100].contiguous()
    del tensors["blocks.0.cross_attn.norm_k.weight"]
    found = families.detect(tensors)
    with pytest.raises(WeightLoadError, match=r"blocks\.0\.cross_attn\.norm_k\.weight.*blocks\.1\.ffn\.2\.weight"):
        wan.load(tensors, found, families.get(found), "broken.safetensors")


def test_the_reduced_files_are_the_recorded_ones_byte_for_byte(tmp_path: Path) -> None:
    for variant, facts in FACTS["variants"].items():
        path = make_wan_files.write_wan_model(tmp_path / facts["file"], variant)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == facts["file_sha256"], variant
        inputs = make_wan_files.probe_inputs(variant)
        digest = hashlib.sha256()
        for key in sorted(inputs):
            digest.update(key.encode())
            digest.update(inputs[key].float().contiguous().numpy().tobytes())
        assert digest.hexdigest() == facts["inputs_sha256"], variant


@pytest.mark.parametrize("name", sorted(make_wan_files.FORMAT_FILES))
def test_unetloader_reads_bf16_fp8_scaled_fp8_and_prefixed_wan_files_as_comfyui_does(tmp_path: Path,
                                                                                      name: str) -> None:
    path = tmp_path / name
    from safetensors.torch import save_file

    save_file(make_wan_files.FORMAT_FILES[name](), str(path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == FACTS["formats"][name]["file_sha256"]
    model = comfy.sd.load_diffusion_model(str(path)).model
    assert model.family == "WAN21_T2V"
    inputs = make_wan_files.probe_inputs("t2v")
    with torch.no_grad():
        raw = model.run_network(inputs["odd"], torch.tensor([FACTS["raw_timestep"]]),
                                {"c_crossattn": inputs["context"]}, torch.float32)
    assert_close(raw, PROBES[f"format/{name}/raw"], name)


@pytest.fixture(scope="module")
def wan_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    directory = tmp_path_factory.mktemp("wan")
    return {variant: comfy.sd.load_diffusion_model(str(path))
            for variant, path in make_wan_files.write_all(directory).items()}


def _conditioning(inputs: dict[str, torch.Tensor], text: torch.Tensor, with_image: bool) -> dict:
    if not with_image or "clip" not in inputs:
        return {}
    return {"clip_vision_output": SimpleNamespace(penultimate_hidden_states=inputs["clip"]),
            "concat_latent_image": inputs["picture"], "concat_mask": inputs["mask"]}


@pytest.mark.parametrize("variant", sorted(make_wan_files.VARIANTS))
def test_wan_network_and_apply_model_match_comfyui(wan_models: dict, variant: str) -> None:
    model = wan_models[variant].model
    assert type(model).__name__ == FACTS["variants"][variant]["model_class"]
    assert model.image_to_video == FACTS["variants"][variant]["image_to_video"]
    inputs = make_wan_files.probe_inputs(variant)
    with torch.no_grad():
        raw = model.run_network(inputs["odd"], torch.tensor([FACTS["raw_timestep"]]),
                                {"c_crossattn": inputs["context"]}, torch.float32)
        assert_close(raw, PROBES[f"{variant}/raw"], f"{variant} raw")
        cases = [("plain", {}, {})]
        if "clip" in inputs:
            cases.append(("image", _conditioning(inputs, inputs["context"], True), {}))
        if "denoise_mask" in inputs:
            cases.append(("masked", {}, {"denoise_mask": inputs["denoise_mask"]}))
        if "subject" in inputs:
            cases.append(("phantom", {"time_dim_concat": inputs["subject"]}, {}))
        for name, options, extra in cases:
            conds = model.extra_conds(inputs["context"], options, inputs["x"])
            if f"{variant}/{name}/c_concat" in PROBES:
                assert_close(conds["c_concat"], PROBES[f"{variant}/{name}/c_concat"], f"{variant} {name} c_concat")
            else:
                assert "c_concat" not in conds
            out = model.apply_model(inputs["x"], torch.tensor([FACTS["sigma"]]), **conds, **extra)
            assert_close(out, PROBES[f"{variant}/{name}/denoised"], f"{variant} {name} denoised")


@pytest.mark.parametrize("variant", sorted(make_wan_files.VARIANTS))
def test_two_ksampler_steps_on_wan_match_comfyui(wan_models: dict, variant: str) -> None:
    patcher = wan_models[variant]
    inputs = make_wan_files.probe_inputs(variant)
    sampling = FACTS["sampling"]
    positive = [[inputs["context"], _conditioning(inputs, inputs["context"], True)]]
    negative = [[inputs["negative"], _conditioning(inputs, inputs["negative"], True)]]
    arguments = (sampling["steps"], sampling["cfg"], sampling["sampler_name"], sampling["scheduler"], positive,
                 negative)
    sampled = comfy.sample.sample(patcher, inputs["noise"], *arguments, torch.zeros_like(inputs["noise"]),
                                  seed=sampling["seed"], disable_pbar=True)
    assert_close(sampled, PROBES[f"{variant}/sampled"], f"{variant} sampled")
    if "denoise_mask" in inputs:
        picture = torch.randn(inputs["noise"].shape,
                              generator=torch.Generator().manual_seed(FACTS["sampled_masked_latent_image_seed"]))
        sampled = comfy.sample.sample(patcher, inputs["noise"], *arguments, picture,
                                      noise_mask=inputs["denoise_mask"], seed=sampling["seed"], disable_pbar=True)
        assert_close(sampled, PROBES[f"{variant}/sampled_masked"], f"{variant} sampled with a denoise mask")


def test_wan_latent_formats_normalise_each_channel() -> None:
    for latent_format, channels in ((comfy.latent_formats.Wan21(), 16), (comfy.latent_formats.Wan22(), 48)):
        assert latent_format.latent_channels == channels and latent_format.latent_dimensions == 3
        assert len(latent_format.latent_rgb_factors) == channels
        mean = torch.tensor(latent_format.latents_mean_values).view(1, channels, 1, 1, 1)
        assert latent_format.process_in(mean.expand(1, channels, 2, 3, 3)).abs().max() == 0
        latent = torch.randn(1, channels, 2, 3, 3)
        torch.testing.assert_close(latent_format.process_out(latent_format.process_in(latent)), latent)


@pytest.mark.parametrize("variant", ("t2v", "ti2v_5b"))
def test_the_ksampler_node_samples_wan_video_latents_as_comfyui_does(wan_models: dict, variant: str) -> None:
    from core_nodes.sampling import common_ksampler

    inputs = make_wan_files.probe_inputs(variant)
    latent = {"samples": torch.zeros_like(inputs["x"])}
    if variant == "ti2v_5b":  # Wan22ImageToVideoLatent's output: the picture latent and a mask [1, 1, T, H, W]
        mask = torch.ones(1, 1, *inputs["x"].shape[2:])
        mask[:, :, 0] = 0.0
        latent = {"samples": inputs["x"], "noise_mask": mask}
    settings = FACTS["ksampler"]
    (out,) = common_ksampler(wan_models[variant], settings["seed"], settings["steps"], settings["cfg"],
                             settings["sampler_name"], settings["scheduler"], [[inputs["context"], {}]],
                             [[inputs["negative"], {}]], latent)
    assert_close(out["samples"], PROBES[f"ksampler/{variant}"], f"{variant} KSampler")
    if variant == "ti2v_5b":  # the given first frame is kept as it was (up to the latent format's round trip)
        torch.testing.assert_close(out["samples"][:, :, 0].detach(), inputs["x"][:, :, 0], rtol=0, atol=1e-5)


def test_a_video_latent_previews_its_first_frame() -> None:
    import latent_preview

    latent_format = comfy.latent_formats.Wan21()
    previewer = latent_preview.Latent2RGBPreviewer(latent_format.latent_rgb_factors,
                                                   latent_format.latent_rgb_factors_bias)
    video = torch.randn(1, 16, 3, 6, 4)
    image = previewer.decode_latent_to_preview(video)
    assert image.size == (4, 6)
    assert image.tobytes() == previewer.decode_latent_to_preview(video[:, :, 0]).tobytes()


def test_a_wan_lora_in_comfyui_kohya_and_wan_fun_names_patches_the_layers_comfyui_patches(wan_models: dict) -> None:
    lora = make_wan_files.lora_state_dict()
    patched, _ = comfy.sd.load_lora_for_models(wan_models["t2v"].clone(), None, lora, FACTS["lora_strength"], 0)
    patched.patch_model()
    try:
        inputs = make_wan_files.probe_inputs("t2v")
        with torch.no_grad():
            raw = patched.model.run_network(inputs["odd"], torch.tensor([FACTS["raw_timestep"]]),
                                            {"c_crossattn": inputs["context"]}, torch.float32)
        assert_close(raw, PROBES["lora/t2v/raw"], "t2v with the LoRA")
    finally:
        patched.unpatch_model()
    with torch.no_grad():
        unpatched = wan_models["t2v"].model.run_network(inputs["odd"], torch.tensor([FACTS["raw_timestep"]]),
                                                        {"c_crossattn": inputs["context"]}, torch.float32)
    assert_close(unpatched, PROBES["t2v/raw"], "t2v after the LoRA is taken off")


@pytest.mark.parametrize("variant", ("flf2v", "ti2v_5b"))
def test_a_loaded_wan_model_saves_back_to_its_original_file_layout(wan_models: dict, variant: str) -> None:
    from comfy.families import export

    saved = export.diffusion_model_state_dict(wan_models[variant].model)
    original = make_wan_files.state_dict(variant)
    assert sorted(saved) == sorted(original)
    for key, value in original.items():
        assert torch.equal(saved[key].to(value.dtype), value), key


def test_dit_block_replacements_run_on_wan_blocks_as_in_comfyui(wan_models: dict) -> None:
    def skip_block(args: dict, extra: dict) -> dict:
        return {"img": args["img"]}

    def halve_block_update(args: dict, extra: dict) -> dict:
        out = extra["original_block"](args)
        return {"img": args["img"] + 0.5 * (out["img"] - args["img"])}

    model = wan_models["i2v"].model
    inputs = make_wan_files.probe_inputs("i2v")
    conds = model.extra_conds(inputs["context"], _conditioning(inputs, inputs["context"], True), inputs["x"])
    for name, patches in (("skip1", {("double_block", 1): skip_block}),
                          ("halve0", {("double_block", 0): halve_block_update})):
        with torch.no_grad():
            out = model.apply_model(inputs["x"], torch.tensor([FACTS["sigma"]]),
                                    transformer_options={"patches_replace": {"dit": patches}}, **conds)
        assert_close(out, PROBES[f"dit/i2v/{name}"], f"i2v with {name}")


def test_unetloader_weight_dtype_fp8_stores_wan_weights_in_fp8_as_comfyui_does(tmp_path: Path) -> None:
    path = make_wan_files.write_wan_model(tmp_path / "kiln-wan-t2v.safetensors", "t2v")
    model = comfy.sd.load_diffusion_model(str(path), weight_dtype="fp8_e4m3fn").model
    assert model.diffusion_model.blocks[0].ffn.net[0].proj.weight.dtype == torch.float8_e4m3fn
    inputs = make_wan_files.probe_inputs("t2v")
    assert model.diffusion_model.patch_embedding.weight.dtype == torch.float32  # as ComfyUI keeps it
    with torch.no_grad():
        raw = _run_cast(model, inputs)
    assert_close(raw, PROBES["weight_dtype/fp8_e4m3fn/raw"], "t2v with fp8 weights")


def _run_cast(model: object, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The raw network with its narrower weights cast per layer, as apply_model runs it."""
    import comfy.manual_cast

    with comfy.manual_cast.layers_cast_per_call(model.diffusion_model, model.get_compute_dtype()):
        return model.run_network(inputs["odd"], torch.tensor([FACTS["raw_timestep"]]),
                                 {"c_crossattn": inputs["context"]}, torch.float32)
