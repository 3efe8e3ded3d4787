"""comfy.sd: loading tiny checkpoints of every family into models that sample, and refusing bad files clearly."""

import pytest
import torch

import comfy.model_management
import comfy.sd
import nodes
from comfy.model_detection import ModelDetectionError
from tests import model_factory

FAMILIES = ["SD15", "SD15_inpaint", "SD20", "SD21", "SDXL", "SDXLRefiner"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    paths = {}
    for family in FAMILIES:
        paths[family] = str(folder / f"{family}.safetensors")
        model_factory.write_tiny_checkpoint(paths[family], family, 0)
    return paths


def standard_workflow(checkpoint: str, seed: int, text: str = "a red circle") -> torch.Tensor:
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoint)
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, text)[0], encode.encode(clip, "blurry")[0]
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(64, 64, 1)[0]
    with torch.inference_mode():
        samples = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, seed, 3, 7.0, "euler", "normal", positive,
                                                                 negative, latent)[0]
        return nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, samples)[0]


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_runs_the_standard_workflow_to_an_image(checkpoints, family):
    image = standard_workflow(checkpoints[family], 42)
    assert image.shape == (1, 64, 64, 3)
    assert torch.isfinite(image).all() and image.std() > 0


def test_the_same_seed_gives_the_same_image_and_another_seed_a_different_one(checkpoints):
    first = standard_workflow(checkpoints["SD15"], 7)
    again = standard_workflow(checkpoints["SD15"], 7)
    other = standard_workflow(checkpoints["SD15"], 8)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_the_model_family_decides_the_model_class_and_prediction(checkpoints):
    model, _, _, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD21"])
    assert type(model.model).__name__ == "BaseModel" and model.model.model_type.name == "V_PREDICTION"
    model, _, _, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SDXL"])
    assert type(model.model).__name__ == "SDXL"


def test_a_truncated_file_is_reported_with_its_name(tmp_path, checkpoints):
    truncated = tmp_path / "broken.safetensors"
    truncated.write_bytes(open(checkpoints["SD15"], "rb").read()[:50_000])
    with pytest.raises(comfy.sd.ModelFileError, match="broken.safetensors"):
        comfy.sd.load_checkpoint_guess_config(str(truncated))


def test_a_file_that_is_not_a_model_is_reported(tmp_path):
    bogus = tmp_path / "notes.safetensors"
    bogus.write_bytes(b"this is not a safetensors file at all" * 10)
    with pytest.raises(comfy.sd.ModelFileError, match="notes.safetensors"):
        comfy.sd.load_checkpoint_guess_config(str(bogus))


def test_a_checkpoint_of_an_unknown_family_is_refused_naming_the_file(tmp_path):
    unknown = model_factory.write_safetensors(tmp_path / "mystery.safetensors",
                                              {"net.blocks.0.weight": torch.zeros(4, 4),
                                               "net.blocks.1.weight": torch.zeros(4)})
    with pytest.raises((ModelDetectionError, comfy.sd.ModelFileError), match="mystery.safetensors"):
        comfy.sd.load_checkpoint_guess_config(str(unknown))


def test_a_unet_only_file_loads_through_the_diffusion_model_loader_not_the_checkpoint_loader(tmp_path):
    path = model_factory.write_safetensors(tmp_path / "unet.safetensors",
                                           model_factory.tiny_unet_only_state_dict("SDXL", 0, False)[0])
    with pytest.raises(comfy.sd.ModelFileError, match="UNETLoader"):
        comfy.sd.load_checkpoint_guess_config(str(path))
    model = comfy.sd.load_diffusion_model(str(path))
    assert model.model.family == "SDXL"


def test_a_lora_changes_the_model_and_text_encoder_and_unloading_restores_them(checkpoints):
    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD15"])
    lora = model_factory.tiny_lora_sd1_state_dict(0)
    patched_model, patched_clip = comfy.sd.load_lora_for_models(model, clip, lora, 1.0, 1.0, "tiny.safetensors")
    assert patched_model.patches and patched_clip.patcher.patches
    x = torch.randn(1, 4, 8, 8)
    context = torch.randn(1, 77, 32)
    sigma = torch.tensor([1.0])

    def denoise(patcher):
        comfy.model_management.load_models_gpu([patcher])
        with torch.inference_mode():
            return patcher.model.apply_model(x, sigma, c_crossattn=context)

    plain = denoise(model)
    with_lora = denoise(patched_model)
    assert not torch.allclose(plain, with_lora)
    assert torch.equal(denoise(model), plain)
    assert not torch.equal(patched_clip.encode_from_tokens(clip.tokenize("a cat")),
                           clip.encode_from_tokens(clip.tokenize("a cat")))


def test_a_lora_for_another_family_is_refused(checkpoints):
    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SDXL"])
    lora = model_factory.tiny_lora_sd1_state_dict(0)
    with pytest.raises(ValueError, match="does not fit this model"):
        comfy.sd.load_lora_for_models(model, None, lora, 1.0, 0.0, "sd1-lora.safetensors")


def test_vae_encode_then_decode_keeps_the_image_shape(checkpoints):
    _, _, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD15"], output_clip=False)
    image = torch.rand(2, 64, 48, 3)
    latent = vae.encode(image)
    assert latent.shape == (2, 4, 8, 6)
    assert vae.decode(latent).shape == (2, 64, 48, 3)
    tiled = vae.decode_tiled(torch.randn(1, 4, 16, 16), tile_x=8, tile_y=8, overlap=2)
    assert tiled.shape == (1, 128, 128, 3)


def test_a_lora_with_original_ldm_layer_names_applies_to_the_same_layers(checkpoints):
    """kohya writes SDXL LoRAs with LDM layer names (`lora_unet_input_blocks_4_1_...`), SD1 ones with diffusers
    names: both must reach the same weights."""
    import comfy.lora

    model, _, _, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD15"], output_clip=False, output_vae=False)
    key_map = comfy.lora.unet_key_map(model.model.diffusion_model)
    diffusers_named = {key: value for key, value in model_factory.tiny_lora_sd1_state_dict(0).items()
                       if key.startswith("lora_unet_")}
    ldm_name = {parameter: name for name, parameter in key_map.items()
                if name.startswith(("lora_unet_input_blocks", "lora_unet_middle_block", "lora_unet_output_blocks"))}
    renamed = {}
    for key, value in diffusers_named.items():
        layer, _, suffix = key.partition(".")
        renamed[f"{ldm_name[key_map[layer]]}.{suffix}"] = value
    assert any(key.startswith("lora_unet_input_blocks_") for key in renamed)
    by_diffusers = comfy.sd.load_lora_for_models(model, None, diffusers_named, 1.0, 0, "a")[0]
    by_ldm = comfy.sd.load_lora_for_models(model, None, renamed, 1.0, 0, "b")[0]
    assert by_diffusers.patches.keys() == by_ldm.patches.keys() and by_ldm.patches


def test_a_pack_can_load_its_inference_tensors_through_custom_operations():
    """ComfyUI-GGUF reads its file inside the node (under torch.inference_mode()) and passes the tensors with its
    own comfy.ops; the model is built from them as they are, its layers being the pack's."""
    import comfy.ops

    state_dict, _ = model_factory.tiny_unet_only_state_dict("SD15", 0)
    with torch.inference_mode():
        inference_tensors = {key: value.clone() for key, value in state_dict.items()}

        patcher = comfy.sd.load_diffusion_model_state_dict(inference_tensors,
                                                           model_options={"custom_operations": comfy.ops.manual_cast})

    network = patcher.model.diffusion_model
    assert any(isinstance(module, comfy.ops.manual_cast.Linear) for module in network.modules())
    assert not any(parameter.requires_grad for parameter in network.parameters())
