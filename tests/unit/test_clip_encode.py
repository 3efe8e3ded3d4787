"""CLIP text encoding: loading LDM/SGM/open_clip weights, layers, weighting, chunks, embeddings, the reference probe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from comfy import sd1_clip, sd2_clip, sdxl_clip
from comfy.clip_object import (
    CLIP,
    clip_from_checkpoint,
    clip_from_text_encoder_state_dicts,
    clip_target_for,
    load_text_encoder,
)
from comfy.text_encoders import clip_configs
from tests.conftest import FIXTURES

REFERENCE_CHECKPOINT_BYTES = 2_132_625_894
PROMPT = "a photo of a cat"


# --- tiny models in the original single-file layouts, built here ----------------------------------------


def _tiny(model_class: type, width: int, act: str, projection: int, seed: int) -> torch.nn.Module:
    config = CLIPTextConfig(vocab_size=49408, hidden_size=width, intermediate_size=3 * width, num_hidden_layers=3,
                            num_attention_heads=2, max_position_embeddings=77, projection_dim=projection,
                            hidden_act=act, bos_token_id=49406, eos_token_id=49407, pad_token_id=49407)
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config).eval()
    with torch.no_grad():  # non-trivial norms and biases, values exact in fp16
        for param in model.parameters():
            param.add_(0.05 * torch.randn(param.shape, generator=generator))
            param.copy_(param.half().float())
    return model


def _to_ldm_clip_l(model: CLIPTextModel) -> dict[str, torch.Tensor]:
    """transformers (flattened) CLIP-L → the `text_model.*` keys checkpoints keep, fp16, with position_ids."""
    out = {"text_model." + key: value.half() for key, value in model.state_dict().items()}
    out["text_model.embeddings.position_ids"] = torch.arange(77).reshape(1, 77)
    return out


def _to_open_clip(model: CLIPTextModelWithProjection) -> dict[str, torch.Tensor]:
    """transformers CLIP with projection → open_clip text-tower keys (fused qkv, [width, proj] projection), fp16."""
    sd = {key.removeprefix("text_model."): value.half() for key, value in model.state_dict().items()}
    out = {"token_embedding.weight": sd.pop("embeddings.token_embedding.weight"),
           "positional_embedding": sd.pop("embeddings.position_embedding.weight"),
           "ln_final.weight": sd.pop("final_layer_norm.weight"), "ln_final.bias": sd.pop("final_layer_norm.bias"),
           "text_projection": sd.pop("text_projection.weight").t().contiguous(),
           "logit_scale": torch.tensor(4.6)}
    renames = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "self_attn.out_proj": "attn.out_proj",
               "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj"}
    for layer in range(model.config.num_hidden_layers):
        source, target = f"encoder.layers.{layer}.", f"transformer.resblocks.{layer}."
        for kind in ("weight", "bias"):
            out[f"{target}attn.in_proj_{kind}"] = torch.cat(
                [sd.pop(f"{source}self_attn.{name}_proj.{kind}") for name in "qkv"])
            for hf_name, open_name in renames.items():
                out[f"{target}{open_name}.{kind}"] = sd.pop(f"{source}{hf_name}.{kind}")
    assert not sd, f"unmapped keys {list(sd)}"
    return out


def _prefixed(prefix: str, sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + key: value for key, value in sd.items()}


@pytest.fixture(scope="module")
def clip_l_model() -> CLIPTextModel:
    return _tiny(CLIPTextModel, 32, "quick_gelu", 32, seed=1)


@pytest.fixture(scope="module")
def clip_g_model() -> CLIPTextModelWithProjection:
    return _tiny(CLIPTextModelWithProjection, 48, "gelu", 24, seed=2)


@pytest.fixture(scope="module")
def sd1_clip_object(clip_l_model: CLIPTextModel) -> CLIP:
    checkpoint = _prefixed("cond_stage_model.transformer.", _to_ldm_clip_l(clip_l_model))
    return clip_from_checkpoint(checkpoint, "tiny-sd1.safetensors")


def _ids(text: str, pad: int = 49407) -> torch.Tensor:
    chunk = sd1_clip.SDTokenizer(pad_with_end=pad == 49407).tokenize_with_weights(text)[0]
    return torch.tensor([[token for token, _ in chunk]])


def _close(a: torch.Tensor, b: torch.Tensor, tolerance: float = 1e-5) -> bool:
    return a.shape == b.shape and (a - b).abs().max().item() <= tolerance


# --- loading ---------------------------------------------------------------------------------------------


def test_sd1_checkpoint_clip_loads_fp16_weights_exactly_in_float32(sd1_clip_object: CLIP,
                                                                   clip_l_model: CLIPTextModel) -> None:
    assert isinstance(sd1_clip_object.cond_stage_model, sd1_clip.SD1ClipModel)
    loaded = sd1_clip_object.cond_stage_model.clip_l.transformer
    assert loaded.config.hidden_act == "quick_gelu" and loaded.config.num_hidden_layers == 3
    for key, value in clip_l_model.state_dict().items():
        mine = loaded.state_dict()["text_model." + key]
        assert mine.dtype == torch.float32 and torch.equal(mine, value), key
    assert torch.equal(loaded.text_projection.weight, torch.eye(32))  # SD1 files have none: identity, as ComfyUI


def test_sd1_encode_matches_transformers_last_layer_and_eos_pooled(sd1_clip_object: CLIP,
                                                                   clip_l_model: CLIPTextModel) -> None:
    cond, pooled = sd1_clip_object.encode_from_tokens(sd1_clip_object.tokenize(PROMPT), return_pooled=True)
    with torch.no_grad():
        expected = clip_l_model(_ids(PROMPT))
    assert cond.shape == (1, 77, 32) and pooled.shape == (1, 32)
    assert _close(cond, expected.last_hidden_state)
    assert _close(pooled, expected.pooler_output)


def test_clip_skip_selects_the_normed_penultimate_layer_and_minus_one_is_default(
        sd1_clip_object: CLIP, clip_l_model: CLIPTextModel) -> None:
    tokens = sd1_clip_object.tokenize(PROMPT)
    default = sd1_clip_object.encode_from_tokens(tokens)
    skipped = sd1_clip_object.clone()
    skipped.clip_layer(-2)
    penultimate = skipped.encode_from_tokens(tokens)
    with torch.no_grad():
        hidden = clip_l_model(_ids(PROMPT), output_hidden_states=True).hidden_states[-2]
        expected = clip_l_model.final_layer_norm(hidden)
    assert (penultimate - default).abs().max() > 1e-2
    assert _close(penultimate, expected)
    skipped.clip_layer(-1)
    assert _close(skipped.encode_from_tokens(tokens), default, 1e-6)
    assert torch.equal(sd1_clip_object.encode_from_tokens(tokens), default)  # the original is untouched


def test_sdxl_checkpoint_concatenates_l_and_g_penultimate_and_pools_projected_g(
        clip_l_model: CLIPTextModel, clip_g_model: CLIPTextModelWithProjection) -> None:
    checkpoint = _prefixed("conditioner.embedders.0.transformer.", _to_ldm_clip_l(clip_l_model))
    checkpoint.update(_prefixed("conditioner.embedders.1.model.", _to_open_clip(clip_g_model)))
    clip = clip_from_checkpoint(checkpoint, "tiny-sdxl.safetensors")
    assert isinstance(clip.cond_stage_model, sdxl_clip.SDXLClipModel)
    assert clip.cond_stage_model.clip_g.transformer.config.hidden_act == "gelu"
    for key, value in clip_g_model.state_dict().items():
        assert torch.equal(clip.cond_stage_model.clip_g.transformer.state_dict()[key], value), key

    cond, pooled = clip.encode_from_tokens(clip.tokenize(PROMPT), return_pooled=True)
    with torch.no_grad():
        l_hidden = clip_l_model(_ids(PROMPT), output_hidden_states=True).hidden_states[-2]
        g_out = clip_g_model(_ids(PROMPT, pad=0), output_hidden_states=True)
    assert cond.shape == (1, 77, 32 + 48) and pooled.shape == (1, 24)
    assert _close(cond, torch.cat([l_hidden, g_out.hidden_states[-2]], dim=-1))
    assert _close(pooled, g_out.text_embeds)


def test_sdxl_refiner_checkpoint_is_g_alone(clip_g_model: CLIPTextModelWithProjection) -> None:
    clip = clip_from_checkpoint(_prefixed("conditioner.embedders.0.model.", _to_open_clip(clip_g_model)), "refiner")
    assert isinstance(clip.cond_stage_model, sdxl_clip.SDXLRefinerClipModel)
    cond, pooled = clip.encode_from_tokens(clip.tokenize(PROMPT), return_pooled=True)
    with torch.no_grad():
        g_out = clip_g_model(_ids(PROMPT, pad=0), output_hidden_states=True)
    assert _close(cond, g_out.hidden_states[-2]) and _close(pooled, g_out.text_embeds)


def test_sd2_checkpoint_uses_openclip_penultimate_with_final_norm() -> None:
    model = _tiny(CLIPTextModelWithProjection, 40, "gelu", 40, seed=3)
    clip = clip_from_checkpoint(_prefixed("cond_stage_model.model.", _to_open_clip(model)), "tiny-sd2")
    assert isinstance(clip.cond_stage_model, sd2_clip.SD2ClipModel)
    cond, pooled = clip.encode_from_tokens(clip.tokenize(PROMPT), return_pooled=True)
    with torch.no_grad():
        out = model(_ids(PROMPT, pad=0), output_hidden_states=True)
        expected = model.text_model.final_layer_norm(out.hidden_states[-2])
    assert _close(cond, expected) and _close(pooled, out.text_embeds)


def test_clip_loader_accepts_bare_transformers_and_open_clip_files(
        clip_l_model: CLIPTextModel, clip_g_model: CLIPTextModelWithProjection) -> None:
    flattened = {key: value.half() for key, value in clip_l_model.state_dict().items()}  # transformers 5 layout
    sd1 = clip_from_text_encoder_state_dicts([flattened], "stable_diffusion", ["clip_l.safetensors"])
    assert isinstance(sd1.cond_stage_model, sd1_clip.SD1ClipModel)
    sdxl = clip_from_text_encoder_state_dicts([_to_ldm_clip_l(clip_l_model), _to_open_clip(clip_g_model)], "sdxl")
    assert isinstance(sdxl.cond_stage_model, sdxl_clip.SDXLClipModel)
    assert sdxl.encode_from_tokens(sdxl.tokenize(PROMPT)).shape == (1, 77, 80)
    with pytest.raises(NotImplementedError, match="hidream"):
        clip_from_text_encoder_state_dicts([flattened], "hidream")
    with pytest.raises(clip_configs.TextEncoderLoadError, match="'flux' needs one CLIP-L and one T5-XXL"):
        clip_from_text_encoder_state_dicts([flattened], "flux")


def test_load_text_encoder_configures_each_kind_as_its_family_uses_it(
        clip_l_model: CLIPTextModel, clip_g_model: CLIPTextModelWithProjection) -> None:
    l_encoder = load_text_encoder(_to_ldm_clip_l(clip_l_model), "clip_l", "clip_l.safetensors")
    g_encoder = load_text_encoder(_to_open_clip(clip_g_model), "clip_g", "clip_g.safetensors")
    h_encoder = load_text_encoder(_prefixed("cond_stage_model.model.", _to_open_clip(clip_g_model)), "clip_h")
    assert type(l_encoder) is sd1_clip.SDClipModel and l_encoder.layer == "last"
    assert l_encoder.special_tokens["pad"] == 49407
    assert isinstance(g_encoder, sdxl_clip.SDXLClipG) and (g_encoder.layer, g_encoder.layer_idx) == ("hidden", -2)
    assert g_encoder.special_tokens["pad"] == 0 and not g_encoder.layer_norm_hidden_state
    assert isinstance(h_encoder, sd2_clip.SD2ClipHModel) and h_encoder.layer_norm_hidden_state
    assert h_encoder.transformer.config.hidden_act == "gelu"


def test_state_dict_round_trips_through_get_sd_and_full_model_load_sd(sd1_clip_object: CLIP) -> None:
    saved = sd1_clip_object.get_sd()
    assert "clip_l.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight" in saved
    assert "clip_l.transformer.text_projection.weight" in saved
    encoders = {"clip_l": {key.removeprefix("clip_l.transformer."): value for key, value in saved.items()}}
    fresh = CLIP(clip_target_for(encoders))  # weights still on the meta device
    result = fresh.load_sd(saved, full_model=True)
    assert not result.missing_keys and not result.unexpected_keys
    tokens = sd1_clip_object.tokenize(PROMPT)
    assert torch.equal(fresh.encode_from_tokens(tokens), sd1_clip_object.encode_from_tokens(tokens))


def test_config_from_real_sizes_uses_width_over_64_heads_and_the_family_activation() -> None:
    for kind, config in (("clip_l", clip_configs.clip_l_config()), ("clip_h", clip_configs.clip_h_config()),
                         ("clip_g", clip_configs.clip_g_config())):
        with torch.device("meta"):
            model = CLIPTextModelWithProjection(config)
        sd = dict(model.state_dict())
        derived = clip_configs.text_config_from_state_dict(sd)
        assert clip_configs.detect_kind_from_width(config.hidden_size) == kind
        for field in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                      "hidden_act", "projection_dim", "vocab_size", "max_position_embeddings"):
            assert getattr(derived, field) == getattr(config, field), (kind, field)
    assert clip_configs.clip_l_config().num_attention_heads == 12
    assert clip_configs.clip_g_config().num_attention_heads == 20


def test_key_mismatch_raises_an_error_naming_the_file_and_the_keys(clip_l_model: CLIPTextModel) -> None:
    checkpoint = _prefixed("cond_stage_model.transformer.", _to_ldm_clip_l(clip_l_model))
    good = "cond_stage_model.transformer.text_model.encoder.layers.1.mlp.fc1.weight"
    checkpoint[good.replace("fc1", "fc9")] = checkpoint.pop(good)
    with pytest.raises(clip_configs.TextEncoderLoadError) as error:
        clip_from_checkpoint(checkpoint, "broken-sd1.safetensors")
    message = str(error.value)
    assert "broken-sd1.safetensors" in message
    assert "text_model.encoder.layers.1.mlp.fc1.weight" in message
    assert "text_model.encoder.layers.1.mlp.fc9.weight" in message


# --- weighting, chunks and embeddings --------------------------------------------------------------------


def test_weights_scale_each_token_away_from_the_empty_prompt_encoding(sd1_clip_object: CLIP) -> None:
    encoder = sd1_clip_object.cond_stage_model.clip_l
    weighted_tokens = sd1_clip_object.tokenize("a photo of a (cat:1.5)")
    cond = sd1_clip_object.encode_from_tokens(weighted_tokens)
    plain = [token for token, _ in weighted_tokens["l"][0]]
    empty = sd1_clip.gen_empty_tokens(encoder.special_tokens, 77)
    z, _ = encoder.encode([plain, empty])
    expected = z[0:1].clone()
    expected[0, 5] = (z[0, 5] - z[1, 5]) * 1.5 + z[1, 5]
    assert _close(cond, expected, 1e-6)
    assert not _close(cond, z[0:1], 1e-3)


def test_long_prompt_concatenates_chunks_on_the_token_axis_and_pools_the_first(sd1_clip_object: CLIP) -> None:
    text = ", ".join(f"word{i} cat" for i in range(20))
    tokens = sd1_clip_object.tokenize(text)
    assert len(tokens["l"]) == 2
    cond, pooled = sd1_clip_object.encode_from_tokens(tokens, return_pooled=True)
    first_cond, first_pooled = sd1_clip_object.encode_from_tokens({"l": tokens["l"][:1]}, return_pooled=True)
    second = sd1_clip_object.encode_from_tokens({"l": tokens["l"][1:]})
    assert cond.shape == (1, 154, 32)
    assert _close(cond[:, :77], first_cond, 1e-6) and _close(cond[:, 77:], second, 1e-6)
    assert _close(pooled, first_pooled, 1e-6)


def test_embedding_vector_is_injected_as_an_input_embedding(sd1_clip_object: CLIP, tmp_path: Path) -> None:
    encoder = sd1_clip_object.cond_stage_model.clip_l
    cat_row = encoder.transformer.text_model.embeddings.token_embedding.weight[2368].clone()
    save_file({"emb_params": cat_row[None]}, str(tmp_path / "catvec.safetensors"))
    clip = sd1_clip_object.clone()
    clip.tokenizer = sd1_clip.SD1Tokenizer(embedding_directory=str(tmp_path))
    tokens = clip.tokenize("a photo of a embedding:catvec")
    assert isinstance(tokens["l"][0][5][0], torch.Tensor)
    cond, pooled = clip.encode_from_tokens(tokens, return_pooled=True)
    expected, expected_pooled = clip.encode_from_tokens(clip.tokenize(PROMPT), return_pooled=True)
    assert _close(cond, expected, 1e-6) and _close(pooled, expected_pooled, 1e-6)


def test_conditioning_from_scheduled_encode_has_cond_and_pooled_output(sd1_clip_object: CLIP) -> None:
    conditioning = sd1_clip_object.encode_from_tokens_scheduled(sd1_clip_object.tokenize(PROMPT),
                                                                add_dict={"extra": 1})
    assert len(conditioning) == 1
    cond, extras = conditioning[0]
    assert cond.shape == (1, 77, 32) and extras["pooled_output"].shape == (1, 32) and extras["extra"] == 1


# --- the reference checkpoint (ComfyUI's numbers) ---------------------------------------------------------


def test_reference_checkpoint_clip_matches_comfyui_probe(reference_checkpoint: Path) -> None:
    with safe_open(str(reference_checkpoint), framework="pt") as handle:
        text_encoder = {key: handle.get_tensor(key) for key in handle.keys()
                        if re.match(r"cond_stage_model\.", key)}
    assert len(text_encoder) == 197
    clip = clip_from_checkpoint(text_encoder, reference_checkpoint.name)
    conditioning = clip.encode_from_tokens_scheduled(clip.tokenize(PROMPT))
    cond, pooled = conditioning[0][0], conditioning[0][1]["pooled_output"]
    probes = load_file(str(FIXTURES / "model_probes.safetensors"))
    # The fixture README's tolerance: max |d| <= 1e-4 (ComfyUI itself moves ~4e-6 across thread counts).
    assert cond.dtype == torch.float32 and cond.shape == (1, 77, 768) and pooled.shape == (1, 768)
    assert (cond - probes["clip_cond"]).abs().max().item() <= 1e-4
    assert (pooled - probes["clip_pooled"]).abs().max().item() <= 1e-4
    negative = clip.encode_from_tokens(clip.tokenize("blurry"))
    e2e = load_file(str(FIXTURES / "e2e" / "euler_normal.safetensors"))
    assert (negative - e2e["cond_negative"]).abs().max().item() <= 1e-4


def test_loaders_look_up_embeddings_in_folder_paths_embeddings_by_default(clip_l_model: CLIPTextModel,
                                                                         tmp_path: Path) -> None:
    import folder_paths

    saved = folder_paths.folder_names_and_paths["embeddings"]
    folder_paths.folder_names_and_paths["embeddings"] = ([str(tmp_path)], set(saved[1]))
    try:
        save_file({"v": torch.randn(1, 32)}, str(tmp_path / "tinyvec.safetensors"))
        clip = clip_from_checkpoint(_prefixed("cond_stage_model.transformer.", _to_ldm_clip_l(clip_l_model)))
        tokens = clip.tokenize("embedding:tinyvec cat")
    finally:
        folder_paths.folder_names_and_paths["embeddings"] = saved
    assert isinstance(tokens["l"][0][1][0], torch.Tensor)
    assert clip.encode_from_tokens(tokens).shape == (1, 77, 32)
