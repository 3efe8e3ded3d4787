"""LoraSave on the tiny SD1.5 model: the difference of a LoRA'd model and its base (ModelMergeSubtract /
CLIPMergeSubtract) saved as a LoRA, whole ("full_diff") or at a rank ("standard"), names its layers as ComfyUI does
and, loaded back with LoraLoader, gives the LoRA'd model's outputs (ComfyUI's numbers on the reference SD1.5:
tests/e2e/test_reference_lora_extract.py)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

import comfy.model_management
import comfy.sd
import folder_paths
import nodes
from comfy_extras.nodes_lora_extract import LoraSave, extract_lora
from comfy_extras.nodes_model_merging import CLIPSubtract, ModelSubtract
from tests import model_factory


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lora-extract")
    path = folder / "tiny-sd15.safetensors"
    model_factory.write_tiny_checkpoint(path, "SD15", 0)
    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(str(path))
    lora = {key: value for key, value in model_factory.tiny_lora_sd1_state_dict(3).items()}
    lora_model, lora_clip = comfy.sd.load_lora_for_models(model, clip, lora, 1.0, 1.0)
    return model, clip, lora_model, lora_clip, folder


@pytest.fixture
def output_folder(tmp_path):
    saved = folder_paths.get_output_directory()
    folder_paths.set_output_directory(str(tmp_path))
    yield tmp_path
    folder_paths.set_output_directory(saved)


def _save(output_folder, name: str, rank: int, lora_type: str, **diffs) -> dict[str, torch.Tensor]:
    LoraSave.execute(f"loras/{name}", rank, lora_type, True, **diffs)
    [path] = (output_folder / "loras").glob(f"{name}_*.safetensors")
    return load_file(str(path))


def _predict(model) -> torch.Tensor:
    comfy.model_management.load_models_gpu([model])  # the patcher's weight patches written into the network
    generator = torch.Generator().manual_seed(0)
    x = torch.randn((1, 4, 8, 8), generator=generator)
    context = torch.randn((1, 77, 32), generator=generator)
    with torch.inference_mode():
        return model.model.apply_model(x, torch.tensor([3.0]), c_crossattn=context)


def _encode(clip) -> torch.Tensor:
    return nodes.CLIPTextEncode().encode(clip, "a photo of a cat")[0][0][0]


def test_a_full_diff_of_the_model_loads_back_as_the_lora(loaded, output_folder):
    model, clip, lora_model, _, _ = loaded
    difference = ModelSubtract().merge(lora_model, model, 1.0)[0]
    saved = _save(output_folder, "full", 8, "full_diff", model_diff=difference)

    assert "diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.diff" in saved
    assert "diffusion_model.input_blocks.1.1.proj_in.diff_b" in saved
    assert all(value.dtype == torch.float16 for value in saved.values())
    reloaded, _ = comfy.sd.load_lora_for_models(model, None, saved, 1.0, 0.0)
    expected, base = _predict(lora_model), _predict(model)
    assert (_predict(reloaded) - expected).abs().max() < 1e-2 * (expected - base).abs().max()


def test_a_rank_lora_of_the_text_encoder_loads_back_as_the_lora(loaded, output_folder):
    _, clip, _, lora_clip, _ = loaded
    difference = CLIPSubtract().merge(lora_clip, clip, 1.0)[0]
    saved = _save(output_folder, "clip", 4, "standard", text_encoder_diff=difference)

    name = "text_encoders.clip_l.transformer.text_model.encoder.layers.0.self_attn.q_proj"
    assert saved[f"{name}.lora_up.weight"].shape[1] == 4 and saved[f"{name}.lora_down.weight"].shape[0] == 4
    assert f"{name}.diff_b" in saved and "text_encoders.clip_l.transformer.text_model.final_layer_norm.diff" in saved
    _, reloaded = comfy.sd.load_lora_for_models(None, clip, saved, 0.0, 1.0)
    expected, base = _encode(lora_clip), _encode(clip)
    assert (_encode(reloaded) - expected).abs().max() < 0.1 * (expected - base).abs().max()


def test_nothing_to_extract_writes_nothing(output_folder):
    assert LoraSave.execute("loras/none", 8, "standard", True).result is None
    assert not (output_folder / "loras").exists()


def test_extract_lora_keeps_the_rank_and_the_kernel_shape():
    generator = torch.Generator().manual_seed(0)
    up, down = torch.randn((16, 2, 1, 1), generator=generator), torch.randn((2, 8, 3, 3), generator=generator)
    difference = (up.flatten(1) @ down.flatten(1)).reshape(16, 8, 3, 3)
    got_up, got_down = extract_lora(difference, 4)
    assert got_up.shape == (16, 4, 1, 1) and got_down.shape == (4, 8, 3, 3)
    product = (got_up.flatten(1) @ got_down.flatten(1)).flatten()
    # the clamp at the 99th percentile of up's and down's values changes it, as ComfyUI's does; its direction stays
    assert torch.nn.functional.cosine_similarity(product, difference.flatten(), dim=0) > 0.9
