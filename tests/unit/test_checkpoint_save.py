"""comfy_extras.nodes_model_merging.CheckpointSave and comfy.families.export: a saved checkpoint is in the original
single-file layout, loads again through comfy.sd and samples, encodes and decodes exactly as the models it was
saved from (LoRA patches baked in), with ComfyUI's metadata."""

import json
import os

import pytest
import torch

import comfy.sd
import comfy.utils
import folder_paths
import nodes
from comfy.cli_args import args
from comfy_extras.nodes_model_advanced import ModelSamplingDiscrete
from comfy_extras.nodes_model_merging import CheckpointSave
from tests import model_factory

FAMILIES = ["SD15", "SD21", "SDXL", "SDXLRefiner"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("save-source")
    paths = {}
    for family in FAMILIES:
        paths[family] = str(folder / f"{family}.safetensors")
        model_factory.write_tiny_checkpoint(paths[family], family, 0)
    return paths


@pytest.fixture
def output_dir(tmp_path):
    saved = folder_paths.get_output_directory()
    folder_paths.set_output_directory(str(tmp_path))
    yield tmp_path
    folder_paths.set_output_directory(saved)


def save(model, clip, vae, prefix="checkpoints/ComfyUI", prompt=None, extra_pnginfo=None) -> str:
    assert CheckpointSave().save(model, clip, vae, prefix, prompt=prompt, extra_pnginfo=extra_pnginfo) == {}
    [name] = os.listdir(os.path.join(folder_paths.get_output_directory(), os.path.dirname(prefix)))
    return os.path.join(folder_paths.get_output_directory(), os.path.dirname(prefix), name)


def text_to_image(model, clip, vae, seed=3, steps=2, size=32) -> tuple[torch.Tensor, torch.Tensor]:
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, "a red circle")[0], encode.encode(clip, "blurry")[0]
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(size, size, 1)[0]
    with torch.inference_mode():
        samples = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, seed, steps, 6.0, "euler", "normal", positive,
                                                                 negative, latent)[0]
        return samples["samples"], nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, samples)[0]


@pytest.mark.parametrize("family", FAMILIES)
def test_a_saved_checkpoint_reloads_and_draws_the_same_image(checkpoints, output_dir, family):
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints[family])
    path = save(model, clip, vae)
    reloaded = comfy.sd.load_checkpoint_guess_config(path)[:3]
    assert reloaded[0].model.family == family and reloaded[0].model.model_type == model.model.model_type
    # The weights are bit-identical (next test); the outputs may differ in the last float bits only, because the
    # loader computes with fp32 tensors memory-mapped at unaligned file offsets (another SIMD summation order).
    # 128 pixels keep the tiny UNets' lowest level above 1x1, where GroupNorm would amplify such bits.
    expected_latent, expected_image = text_to_image(model, clip, vae, size=128)
    latent, image = text_to_image(*reloaded, size=128)
    torch.testing.assert_close(latent, expected_latent, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(image, expected_image, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_saved_checkpoint_has_the_original_ldm_keys_and_values(checkpoints, output_dir, family):
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints[family])
    written = comfy.utils.load_torch_file(save(model, clip, vae))
    original = comfy.utils.load_torch_file(checkpoints[family])
    extra = {"v_pred"} if family == "SD21" else set()
    # ComfyUI's text encoders hold no position ids, and it writes their weights in float16 (its text-encoder
    # dtype): so does Kiln
    position_ids = {key for key in original if key.endswith("position_ids")}
    assert set(written) == (set(original) - position_ids) | extra
    for key, value in original.items():
        if key in position_ids:
            continue
        if written[key].dtype == torch.float16 and value.dtype == torch.float32:
            value = value.half()
        assert torch.equal(written[key].to(value.dtype), value), key
    text_encoder_dtypes = {written[key].dtype for key in written
                           if key.startswith(("cond_stage_model.", "conditioner.")) and written[key].is_floating_point()}
    assert text_encoder_dtypes == {torch.float16}


def test_the_file_is_named_and_numbered_like_comfyui_output(checkpoints, output_dir):
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD15"])
    CheckpointSave().save(model, clip, vae, "checkpoints/mine")
    CheckpointSave().save(model, clip, vae, "checkpoints/mine")
    assert sorted(os.listdir(output_dir / "checkpoints")) == ["mine_00001_.safetensors", "mine_00002_.safetensors"]


def test_metadata_holds_the_prompt_workflow_and_model_spec(checkpoints, output_dir):
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SDXL"])
    prompt = {"1": {"class_type": "CheckpointSave", "inputs": {}}}
    path = save(model, clip, vae, "checkpoints/xl", prompt=prompt, extra_pnginfo={"workflow": {"nodes": []}})
    metadata = comfy.utils.safetensors_metadata(path)
    assert json.loads(metadata["prompt"]) == prompt and json.loads(metadata["workflow"]) == {"nodes": []}
    assert metadata["modelspec.architecture"] == "stable-diffusion-xl-v1-base"
    assert metadata["modelspec.title"] == "xl 1" and metadata["modelspec.predict_key"] == "epsilon"


def test_disable_metadata_leaves_out_the_prompt_and_workflow(checkpoints, output_dir, monkeypatch):
    monkeypatch.setattr(args, "disable_metadata", True)
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD21"])
    metadata = comfy.utils.safetensors_metadata(save(model, clip, vae, prompt={"1": {}},
                                                     extra_pnginfo={"workflow": {}}))
    assert "prompt" not in metadata and "workflow" not in metadata
    assert metadata["modelspec.predict_key"] == "v"


def test_lora_patches_are_baked_into_the_saved_weights(checkpoints, output_dir):
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD15"])
    lora = model_factory.tiny_lora_sd1_state_dict(0)
    patched_model, patched_clip = comfy.sd.load_lora_for_models(model, clip, lora, 1.0, 1.0)
    expected_latent, _ = text_to_image(patched_model, patched_clip, vae)
    plain_latent, _ = text_to_image(model, clip, vae)
    assert not torch.equal(expected_latent, plain_latent)
    reloaded = comfy.sd.load_checkpoint_guess_config(save(patched_model, patched_clip, vae))[:3]
    torch.testing.assert_close(text_to_image(*reloaded)[0], expected_latent, rtol=1e-4, atol=1e-4)
    # The source model is unpatched again afterwards.
    assert torch.equal(text_to_image(model, clip, vae)[0], plain_latent)


def test_a_zero_terminal_snr_v_prediction_model_is_marked_with_v_pred_and_ztsnr_keys(checkpoints, output_dir):
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(checkpoints["SD21"])
    patched = ModelSamplingDiscrete().patch(model, "v_prediction", True)[0]
    written = comfy.utils.load_torch_file(save(patched, clip, vae))
    assert written["v_pred"].numel() == 0 and written["ztsnr"].numel() == 0


def _flow_checkpoint(family: str) -> dict[str, torch.Tensor]:
    """A reduced all-in-one file in ComfyUI's own layout: Flux schnell with its VAE, CLIP-L and an fp8 T5; SD3
    with its VAE, CLIP-L, CLIP-G and T5 (the CLIPs with their `text_projection`, as ComfyUI saves them)."""
    from comfy import families

    state = model_factory.tiny_flow_model_state_dict(family, prefixed=True)
    state.update(model_factory.tiny_vae16_state_dict(prefix=families.get(family).vae_prefix))
    for kind, tensors in model_factory.tiny_flow_text_encoder_state_dicts(family).items():
        state.update({families.comfy_text_encoder_prefix(kind) + key: value for key, value in tensors.items()})
    return state


def flow_text_to_image(model, clip, vae, seed=3) -> torch.Tensor:
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, "a red circle")[0], encode.encode(clip, "blurry")[0]
    from comfy_extras.nodes_sd3 import EmptySD3LatentImage

    latent = EmptySD3LatentImage().generate(64, 64, 1)[0]
    with torch.inference_mode():
        return nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, seed, 2, 2.0, "euler", "simple", positive,
                                                              negative, latent)[0]["samples"]


@pytest.mark.parametrize("family", ["FluxSchnell", "SD3"])
def test_a_flow_checkpoint_is_saved_in_comfyuis_layout_and_reloads_to_the_same_model(tmp_path, output_dir, family):
    source = _flow_checkpoint(family)
    model_factory.write_safetensors(tmp_path / "source.safetensors", source)
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(tmp_path / "source.safetensors"))
    path = save(model, clip, vae)
    written = comfy.utils.load_torch_file(path)
    assert set(written) == set(source)
    for key, value in source.items():
        if written[key].dtype == torch.float16 and value.dtype == torch.float32:  # text encoders, as ComfyUI
            value = value.half()
        assert torch.equal(written[key].to(value.dtype), value), key
    reloaded = comfy.sd.load_checkpoint_guess_config(path)[:3]
    assert reloaded[0].model.family == family
    torch.testing.assert_close(flow_text_to_image(*reloaded), flow_text_to_image(model, clip, vae),
                               rtol=1e-5, atol=1e-5)
