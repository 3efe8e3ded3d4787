"""comfy.families: one description per model family, read by detection, loading, LoRA mapping, export and the
loader nodes; the key tables traced off diffusers' converters, used both ways."""

import re
from pathlib import Path

import pytest
import torch

import comfy.lora
import comfy.sd
from comfy import families
from comfy.families import flux, sd3
from comfy.families.key_tables import export_state_dict, trace_converter
from tests import model_factory

REPO_ROOT = Path(__file__).resolve().parents[2]


def _library_sources() -> dict[str, str]:
    return {str(path.relative_to(REPO_ROOT)): path.read_text() for path in (REPO_ROOT / "comfy").rglob("*.py")}


def _every_checkpoint_prefix() -> set[str]:
    prefixes = set()
    for family in families.FAMILIES.values():
        prefixes |= {family.diffusion_model_prefix, family.vae_prefix}
        prefixes |= {part.checkpoint_prefix for part in family.text_encoders}
    return prefixes


def test_every_checkpoint_prefix_is_written_in_exactly_one_module_of_the_model_library():
    """A prefix is "written" where a string (or a docstring's code span) starts with it."""
    sources = _library_sources()
    prefixes = _every_checkpoint_prefix() | {"conditioner.embedders", "text_encoders.t5xxl", "cond_stage_model.model."}
    assert len(prefixes) >= 10
    for prefix in sorted(prefixes):
        written = re.compile("[\"'`]" + re.escape(prefix))
        holders = [name for name, text in sources.items() if written.search(text)]
        assert len(holders) == 1, f"{prefix!r} is written in {holders}"
        assert holders[0].startswith("comfy/families/")


def test_the_loader_nodes_list_comfyuis_clip_types_and_the_families_claim_only_listed_ones():
    import nodes

    clip_types = nodes.NODE_CLASS_MAPPINGS["CLIPLoader"].INPUT_TYPES()["required"]["type"][0]
    dual_types = nodes.NODE_CLASS_MAPPINGS["DualCLIPLoader"].INPUT_TYPES()["required"]["type"][0]
    assert clip_types == ["stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "pixart",
                          "cosmos", "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image",
                          "hunyuan_image"]
    assert dual_types == ["sdxl", "sd3", "flux", "hunyuan_video", "hidream", "hunyuan_image"]
    for family in families.FAMILIES.values():
        for node, option in family.clip_loader_options:
            assert option in families.CLIP_LOADER_OPTIONS.get(node, ("",)), (family.name, node, option)
    assert families.built_clip_types() == ["stable_diffusion", "sd3", "wan", "chroma", "sdxl", "flux"]
    assert [family.name for family in families.families_built_by("DualCLIPLoader", "flux")] == ["Flux", "FluxSchnell"]


def test_detection_tries_the_unet_families_in_comfyuis_order_and_names_unknown_ones():
    for family in ("SD15", "SD15_inpaint", "SD20", "SD21", "SDXL", "SDXLRefiner"):
        state, _ = model_factory.tiny_checkpoint_state_dict(family, 0)
        assert families.detect(state).name == family
    with pytest.raises(families.ModelDetectionError, match="not SD1.x, SD2.x, SDXL or the SDXL refiner"):
        state, _ = model_factory.tiny_checkpoint_state_dict("SD15", 0)
        families.detect({key: value for key, value in state.items() if "attn2" not in key})


# --- key tables --------------------------------------------------------------------------------------------------


def test_a_traced_table_reads_renames_splits_and_reorders_off_a_converter():
    layout = {"fused": (6, 4), "kept": (3,), "swapped": (4, 2)}

    def convert(source):
        q, k, v = source["fused"].chunk(3)
        shift, scale = source["swapped"].chunk(2)
        return {"q": q, "k": k, "v": v, "renamed": source["kept"], "swap": torch.cat([scale, shift])}

    table = trace_converter(convert, layout)
    assert [(piece.parameter, piece.start, piece.stop) for piece in table["fused"].pieces] == [
        ("q", 0, 2), ("k", 0, 2), ("v", 0, 2)]
    assert [(piece.parameter, piece.start, piece.stop) for piece in table["swapped"].pieces] == [
        ("swap", 2, 4), ("swap", 0, 2)]
    source = {key: torch.randn(shape) for key, shape in layout.items()}
    converted = convert(dict(source))
    assert all(torch.equal(export_state_dict(table, converted)[key], value) for key, value in source.items())


def test_a_converter_that_mixes_values_cannot_be_traced():
    with pytest.raises(ValueError, match="not a renaming"):
        trace_converter(lambda source: {"sum": source["a"] + source["a"]}, {"a": (4, 2)})


@pytest.mark.parametrize("family", ["Flux", "FluxSchnell", "SD3"])
def test_the_traced_flow_tables_give_back_the_files_weights_exactly(family):
    state = model_factory.tiny_flow_model_state_dict(family, seed=3, dtype=torch.float32)
    found = families.detect(state)
    network = comfy.sd.supported_models.load_diffusion_model(state, found, "tiny.safetensors")
    exported = export_state_dict(families.architecture_module(found.architecture).key_table(network),
                                 network.state_dict())
    assert exported.keys() == state.keys()
    assert all(torch.equal(exported[key], value) for key, value in state.items())


@pytest.mark.parametrize("layout", ["flux-dev", "flux-schnell", "sd3-medium", "sd35-large", "sd35-medium"])
def test_full_size_flow_tables_cover_every_original_key_with_its_shape(layout):
    state = model_factory.meta_device_flow_keys(layout)
    found = families.detect(state)
    network = comfy.sd.supported_models.load_diffusion_model(state, found, f"{layout}.safetensors", dtype=None)
    table = families.architecture_module(found.architecture).key_table(network)
    assert {key: entry.shape for key, entry in table.items()} == {key: tuple(v.shape) for key, v in state.items()}


# --- LoRA on every family ----------------------------------------------------------------------------------------

RANK = 4


def _flow_lora(layout: dict[str, tuple[int, ...]], pattern: str, seed: int = 7) -> dict[str, tuple]:
    """(up, down, alpha) per original 2-D weight whose key matches `pattern`, in the original names."""
    generator = torch.Generator().manual_seed(seed)
    layers = {}
    for key, shape in sorted(layout.items()):
        if len(shape) == 2 and key.endswith(".weight") and re.search(pattern, key):
            up = 0.05 * torch.randn((shape[0], RANK), generator=generator)
            down = 0.05 * torch.randn((RANK, shape[1]), generator=generator)
            layers[key.removesuffix(".weight")] = (up, down, 2.0)
    return layers


def _file(layers: dict[str, tuple], name_of) -> dict[str, torch.Tensor]:
    lora = {}
    for path, (up, down, alpha) in layers.items():
        name = name_of(path)
        lora[f"{name}.lora_up.weight"], lora[f"{name}.lora_down.weight"] = up, down
        lora[f"{name}.alpha"] = torch.tensor(alpha)
    return lora


def _peft_file(layers: dict[str, tuple], table, prefix: str) -> dict[str, torch.Tensor]:
    """The same deltas in diffusers / PEFT names: each diffusers weight gets the `up` rows of the original rows
    it holds, in its own row order (a fused weight split up, a swapped one put back)."""
    ups: dict[str, dict[int, torch.Tensor]] = {}
    downs: dict[str, torch.Tensor] = {}
    for path, (up, down, alpha) in layers.items():
        row = 0
        for piece in table[path + ".weight"].pieces:
            rows = piece.stop - piece.start
            for offset in range(rows):  # PEFT files carry no alpha: fold it in
                ups.setdefault(piece.parameter, {})[piece.start + offset] = up[row + offset] * alpha / RANK
            downs[piece.parameter] = down
            row += rows
    lora = {}
    for parameter, rows in ups.items():
        name = prefix + parameter.removesuffix(".weight")
        lora[f"{name}.lora_B.weight"] = torch.stack([rows[index] for index in range(len(rows))])
        lora[f"{name}.lora_A.weight"] = downs[parameter]
    return lora


def _patched_original(model, strength: float) -> dict[str, torch.Tensor]:
    """The model's weights with its patches applied, exported to the file's original names."""
    network = model.model.diffusion_model
    model.patch_model()
    try:
        table = families.architecture_module(model.model.model_config.architecture).key_table(network)
        return {key: value.clone() for key, value in export_state_dict(table, network.state_dict()).items()}
    finally:
        model.unpatch_model()


# Every fused and every reordered weight: qkv / linear1 split into q, k, v (+ MLP), the final modulation's halves
# swapped, plus a plain projection and an MLP.
FLOW_LORA_LAYERS = {
    "Flux": r"(double_blocks\.0\.(img_attn\.qkv|txt_attn\.proj|img_mlp\.0)|single_blocks\.0\.linear[12]"
            r"|final_layer\.adaLN_modulation\.1|img_in)\.weight$",
    "SD3": r"(joint_blocks\.0\.(x_block|context_block)\.attn\.qkv|joint_blocks\.1\.x_block\.mlp\.fc1"
           r"|final_layer\.adaLN_modulation\.1|context_embedder)\.weight$",
}


@pytest.mark.parametrize("family", ["Flux", "SD3"])
def test_a_flow_lora_in_every_naming_patches_the_original_weights_as_comfyui_adds_them(family):
    state = model_factory.tiny_flow_model_state_dict(family, seed=1, dtype=torch.float32)
    found = families.detect(state)
    network = comfy.sd.supported_models.load_diffusion_model(state, found, "tiny.safetensors")
    model = comfy.sd._diffusion_model(state, "tiny.safetensors", found)
    table = families.architecture_module(found.architecture).key_table(network)
    layers = _flow_lora({key: tuple(value.shape) for key, value in state.items()}, FLOW_LORA_LAYERS[family])
    strength = 0.7
    expected = {key: value.clone() for key, value in state.items()}
    for path, (up, down, alpha) in layers.items():
        expected[path + ".weight"] += strength * (up @ down) * alpha / RANK
    namings = {
        "comfyui": _file(layers, lambda path: "diffusion_model." + path),
        "kohya": _file(layers, lambda path: "lora_unet_" + path.replace(".", "_")),
        "diffusers": _peft_file(layers, table, "transformer."),
    }
    for naming, lora in namings.items():
        patched_model, _ = comfy.sd.load_lora_for_models(model, None, lora, strength, 0, f"{naming}.safetensors")
        patched = _patched_original(patched_model, strength)
        for key, value in expected.items():
            torch.testing.assert_close(patched[key], value, rtol=0, atol=2e-6, msg=f"{naming}: {key}")
        assert sum(not torch.equal(patched[key], state[key]) for key in state) == len(layers), naming


def test_an_sd1_lora_on_flux_is_refused_as_made_for_another_family():
    state = model_factory.tiny_flow_model_state_dict("FluxSchnell", seed=0)
    model = comfy.sd._diffusion_model(state, "tiny.safetensors")
    with pytest.raises(ValueError, match="does not fit this model.*another model family"):
        comfy.sd.load_lora_for_models(model, None, model_factory.tiny_lora_sd1_state_dict(0), 1.0, 0, "sd1.safetensors")


def test_a_lora_on_an_sdxl_checkpoints_text_encoders_uses_kohyas_te1_and_te2_names():
    state, models = model_factory.tiny_checkpoint_state_dict("SDXL", 0)
    _, clip, _, _ = comfy.sd.load_state_dict_guess_config(state, "sdxl.safetensors", output_vae=False)
    targets = comfy.lora.clip_targets(clip, "SDXL")
    assert targets["lora_te1_text_model_encoder_layers_0_mlp_fc1"].pieces[0].parameter == \
        "clip_l.transformer.text_model.encoder.layers.0.mlp.fc1.weight"
    assert targets["lora_te2_text_model_encoder_layers_0_self_attn_q_proj"].pieces[0].parameter == \
        "clip_g.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight"
    assert targets["text_encoder_2.text_model.encoder.layers.0.self_attn.q_proj"] == \
        targets["lora_te2_text_model_encoder_layers_0_self_attn_q_proj"]


def test_flux_and_sd3_models_record_their_family_description_as_model_config():
    model = comfy.sd._diffusion_model(model_factory.tiny_flow_model_state_dict("SD3", seed=0), "tiny.safetensors")
    assert model.model.model_config is sd3.SD3 and model.model.family == "SD3"
    model = comfy.sd._diffusion_model(model_factory.tiny_flow_model_state_dict("Flux", seed=0), "tiny.safetensors")
    assert model.model.model_config is flux.FLUX


def test_an_xlabs_flux_lora_adapts_the_fused_weights_it_names_and_only_q_k_v_of_linear1():
    state = model_factory.tiny_flow_model_state_dict("Flux", seed=2, dtype=torch.float32)
    found = families.detect(state)
    model = comfy.sd._diffusion_model(state, "tiny.safetensors", found)
    hidden = found.unet_config["hidden_size"]
    generator = torch.Generator().manual_seed(5)
    names = {"double_blocks.0.processor.qkv_lora1": ("double_blocks.0.img_attn.qkv.weight", 3 * hidden),
             "double_blocks.0.processor.proj_lora2": ("double_blocks.0.txt_attn.proj.weight", hidden),
             "single_blocks.0.processor.qkv_lora": ("single_blocks.0.linear1.weight", 3 * hidden),
             "single_blocks.0.processor.proj_lora": ("single_blocks.0.linear2.weight", hidden)}
    lora, expected = {}, {key: value.clone() for key, value in state.items()}
    for name, (key, rows) in names.items():
        up = 0.05 * torch.randn((rows, RANK), generator=generator)
        down = 0.05 * torch.randn((RANK, state[key].shape[1]), generator=generator)
        lora[f"{name}.up.weight"], lora[f"{name}.down.weight"] = up, down
        expected[key][:rows] += up @ down  # no alpha: a scale of 1
    patched_model, _ = comfy.sd.load_lora_for_models(model, None, lora, 1.0, 0, "xlabs.safetensors")
    patched = _patched_original(patched_model, 1.0)
    for key, value in expected.items():
        torch.testing.assert_close(patched[key], value, rtol=0, atol=2e-6, msg=key)
    assert torch.equal(patched["single_blocks.0.linear1.weight"][3 * hidden:],
                       state["single_blocks.0.linear1.weight"][3 * hidden:])
