"""Flux's and SD3's text encoders: T5-XXL (plain, fp8 and scaled_fp8 files) against transformers' T5EncoderModel,
ComfyUI's T5 weighting, the Flux / SD3 CLIP objects through CLIPLoader, DualCLIPLoader and TripleCLIPLoader,
single-file checkpoint prefixes, clear errors, and ComfyUI's recorded T5 / CLIP numbers on the reference files."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import comfy.sd
import nodes
from comfy.clip_object import CLIP, clip_from_checkpoint, clip_from_text_encoder_state_dicts, clip_target_for
from comfy.text_encoders import t5
from comfy.text_encoders.clip_configs import TextEncoderLoadError
from comfy.text_encoders.flux_clip import FluxClipModel
from comfy.text_encoders.sd3_clip import SD3ClipModel
from comfy.text_encoders.t5_tokenization import T5XXLTokenizer
from comfy_extras.nodes_flux import CLIPTextEncodeFlux
from comfy_extras.nodes_sd3 import CLIPTextEncodeSD3
from tests import model_factory
from tests.conftest import FIXTURES

PROMPT = "a photo of a cat"
WEIGHTED_PROMPT = "a photo of a (cat:1.2)"
T5_ATOL = 1e-5


def t5_reference(model: torch.nn.Module, ids: list[list[int]]) -> torch.Tensor:
    """transformers' T5EncoderModel run directly, without an attention mask (as Flux's T5 runs)."""
    with torch.no_grad():
        return model(input_ids=torch.tensor(ids)).last_hidden_state


def ids_of(chunks: list) -> list[list[int]]:
    return [[int(token) for token, *_ in chunk] for chunk in chunks]


def clip_reference(model: torch.nn.Module, ids: list[int]):
    """transformers' CLIP run directly: (penultimate hidden state un-normed, pooled unprojected (the final-normed
    state at the first end token), pooled projected or None)."""
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_hidden_states=True)
    pooled = out.last_hidden_state[:, ids.index(49407)]
    return out.hidden_states[-2], pooled, getattr(out, "text_embeds", None)


@pytest.fixture
def t5_file_and_model():
    return model_factory.tiny_t5_state_dict(seed=3, dtype=torch.float16)


@pytest.fixture
def flow_text_encoders(base):
    """Tiny CLIP-L (with a non-identity projection, which Flux and SD3 must ignore), OpenCLIP-G and T5 files in
    a fresh models/text_encoders folder; returns (folder, reference models by kind)."""
    folder = base / "models" / "text_encoders"
    clip_l, clip_l_model = model_factory.tiny_text_encoder_state_dict("clip_l", seed=1)
    clip_l["text_projection.weight"] = (0.2 * torch.randn(32, 32, generator=torch.Generator().manual_seed(5))).half()
    clip_g, clip_g_model = model_factory.tiny_text_encoder_state_dict("clip_g", seed=2)
    t5_file, t5_model = model_factory.tiny_t5_state_dict(seed=3, dtype=torch.float8_e4m3fn, d_model=80)
    model_factory.write_safetensors(folder / "tiny-clip_l.safetensors", clip_l)
    model_factory.write_safetensors(folder / "tiny-clip_g.safetensors", clip_g)
    model_factory.write_safetensors(folder / "tiny-t5xxl_fp8_e4m3fn.safetensors", t5_file)
    return folder, {"clip_l": clip_l_model, "clip_g": clip_g_model, "t5xxl": t5_model}


# --- T5 on its own ---------------------------------------------------------------------------------------


def test_t5_xxl_sizes_are_read_back_from_a_full_size_layout():
    with torch.device("meta"):
        layout = {key: value for key, value in t5.empty_t5_model(t5.t5_xxl_config()).state_dict().items()
                  if key != t5.TIED_EMBEDDING_KEY}
    derived = t5.t5_config_from_state_dict(layout)
    assert (derived.d_model, derived.num_layers, derived.num_heads, derived.d_kv, derived.d_ff, derived.vocab_size,
            derived.relative_attention_num_buckets, derived.is_gated_act) == (4096, 24, 64, 64, 10240, 32128, 32, True)
    reference = json.loads((FIXTURES / "flux_keys.json").read_text())["files"]["t5xxl"]["keys"]
    assert {key: list(value.shape) for key, value in layout.items()} == {key: shape for key, shape, _ in reference}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_a_tiny_t5_matches_transformers_t5_encoder_model_run_directly(dtype):
    state_dict, reference = model_factory.tiny_t5_state_dict(seed=0, dtype=dtype)
    encoder = t5.load_t5_encoder(state_dict, "tiny-t5.safetensors")
    ids = [[3, 9, 1202, 13, 3, 9, 1712, 1] + [0] * 8, [1] + [0] * 15]
    z, pooled = encoder.encode(ids)
    assert pooled is None and z.dtype == torch.float32
    torch.testing.assert_close(z, t5_reference(reference, ids), atol=T5_ATOL, rtol=0)
    assert encoder.transformer.encoder.block[1].layer[1].DenseReluDense.wo.weight.dtype == dtype


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2])
def test_fp8_weights_stay_fp8_in_memory_and_are_cast_to_float32_per_layer(dtype):
    state_dict, reference = model_factory.tiny_t5_state_dict(seed=1, dtype=dtype)
    encoder = t5.load_t5_encoder(state_dict, "tiny-t5-fp8.safetensors")
    stored = dict(encoder.transformer.named_parameters())
    big = {name: tensor.dtype for name, tensor in stored.items() if tensor.dim() == 2 and "relative" not in name}
    assert big and set(big.values()) == {dtype}  # every Linear and the embedding
    assert stored["encoder.final_layer_norm.weight"].dtype == torch.float32
    ids = [[3, 9, 1712, 1, 0, 0, 0, 0]]
    torch.testing.assert_close(encoder.encode(ids)[0], t5_reference(reference, ids), atol=T5_ATOL, rtol=0)


def test_a_scaled_fp8_file_multiplies_each_fp8_weight_by_its_scale():
    state_dict, reference = model_factory.tiny_t5_state_dict(seed=2, dtype=torch.bfloat16)
    scaled, effective = model_factory.to_scaled_fp8(state_dict)
    assert "scaled_fp8" in scaled and any(key.endswith(".scale_input") for key in scaled)
    reference.load_state_dict(effective, strict=False)
    encoder = t5.load_t5_encoder(scaled, "tiny-t5_fp8_scaled.safetensors")
    query = encoder.transformer.encoder.block[0].layer[0].SelfAttention.q
    assert isinstance(query, t5.ScaledCastLinear) and query.weight.dtype == torch.float8_e4m3fn
    assert encoder.transformer.shared.weight.dtype == torch.bfloat16  # left unscaled in the file
    ids = [[3, 9, 1202, 1, 0, 0]]
    torch.testing.assert_close(encoder.encode(ids)[0], t5_reference(reference, ids), atol=T5_ATOL, rtol=0)
    assert "encoder.block.0.layer.0.SelfAttention.q.scale_weight" in encoder.transformer.state_dict()


def test_a_t5_file_with_a_missing_or_misshapen_key_names_the_file_the_key_and_the_expected_shape(t5_file_and_model):
    state_dict, _ = t5_file_and_model
    broken = {key: value for key, value in state_dict.items() if key != "encoder.block.1.layer.0.SelfAttention.v.weight"}
    with pytest.raises(TextEncoderLoadError, match=r"t5-broken\.safetensors.*missing keys.*block\.1\.layer\.0\.SelfAttention\.v"):
        t5.load_t5_encoder(broken, "t5-broken.safetensors")
    misshapen = dict(state_dict)
    misshapen["encoder.block.1.layer.1.DenseReluDense.wi_1.weight"] = torch.zeros(40, 32, dtype=torch.float16)
    with pytest.raises(TextEncoderLoadError, match=r"t5-wrong\.safetensors.*wi_1\.weight \(40, 32\) \(expected \(48, 32\)\)"):
        t5.load_t5_encoder(misshapen, "t5-wrong.safetensors")
    with pytest.raises(TextEncoderLoadError, match=r"clip\.safetensors is not a T5"):
        t5.load_t5_encoder(model_factory.tiny_text_encoder_state_dict("clip_l")[0], "clip.safetensors")


def test_t5_weights_follow_comfyuis_rule_against_the_empty_sequence_in_one_batch(t5_file_and_model):
    state_dict, _ = t5_file_and_model
    encoder = t5.load_t5_encoder(state_dict)
    tokenizer = T5XXLTokenizer(min_length=16)
    weighted = tokenizer.tokenize_with_weights(WEIGHTED_PROMPT)
    weights = torch.tensor([weight for _, weight in weighted[0]])
    assert weights[6] == pytest.approx(1.2) and (weights[torch.arange(16) != 6] == 1.0).all()
    batches = []
    original = encoder.encode
    encoder.encode = lambda tokens: batches.append(tokens) or original(tokens)
    out, pooled = encoder.encode_token_weights(weighted)
    assert pooled is None and len(batches) == 1 and batches[0][1] == [1] + [0] * 15  # one batch with the empty
    z = original(ids_of(weighted))[0][0]
    z_empty = original([[1] + [0] * 15])[0][0]
    expected = z.clone()
    expected[6] = (z[6] - z_empty[6]) * 1.2 + z_empty[6]
    torch.testing.assert_close(out[0], expected, atol=1e-6, rtol=0)
    unweighted, _ = encoder.encode_token_weights(tokenizer.tokenize_with_weights(PROMPT))
    assert torch.equal(unweighted[0, :6], out[0, :6]) and not torch.allclose(unweighted[0, 6], out[0, 6])


def test_a_t5_textual_inversion_vector_goes_in_as_its_input_embedding(t5_file_and_model):
    state_dict, reference = t5_file_and_model
    encoder = t5.load_t5_encoder(state_dict)
    vector = torch.randn(32, generator=torch.Generator().manual_seed(9))
    z, _ = encoder.encode([[3, vector, 1712, 1, 0, 0]])
    embeds = reference.shared(torch.tensor([[3, 0, 1712, 1, 0, 0]]))
    embeds[0, 1] = vector
    with torch.no_grad():
        expected = reference(inputs_embeds=embeds).last_hidden_state
    torch.testing.assert_close(z, expected, atol=T5_ATOL, rtol=0)


# --- the Flux and SD3 CLIP objects through the loader nodes ------------------------------------------------


def test_dual_clip_loader_flux_gives_the_t5_sequence_and_clip_ls_unprojected_pooled(flow_text_encoders):
    _, models = flow_text_encoders
    clip = nodes.NODE_CLASS_MAPPINGS["DualCLIPLoader"]().load_clip(
        "tiny-clip_l.safetensors", "tiny-t5xxl_fp8_e4m3fn.safetensors", "flux")[0]
    assert isinstance(clip.cond_stage_model, FluxClipModel)
    tokens = clip.tokenize(PROMPT)
    assert set(tokens) == {"l", "t5xxl"} and len(tokens["t5xxl"][0]) == 256
    (cond, extra), = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]().encode(clip, PROMPT)[0]
    assert cond.shape == (1, 256, 80)
    torch.testing.assert_close(cond, t5_reference(models["t5xxl"], ids_of(tokens["t5xxl"])), atol=T5_ATOL, rtol=0)
    _, l_pooled, _ = clip_reference(models["clip_l"], ids_of(tokens["l"])[0])
    torch.testing.assert_close(extra["pooled_output"], l_pooled, atol=1e-5, rtol=0)
    (flux_cond, flux_extra), = CLIPTextEncodeFlux().encode(clip, PROMPT, PROMPT, 2.5)[0]
    assert torch.equal(flux_cond, cond) and flux_extra["guidance"] == 2.5


def test_clip_set_last_layer_reaches_the_t5_as_comfyui_forwards_it(flow_text_encoders):
    _, models = flow_text_encoders
    clip = nodes.NODE_CLASS_MAPPINGS["DualCLIPLoader"]().load_clip(
        "tiny-t5xxl_fp8_e4m3fn.safetensors", "tiny-clip_l.safetensors", "flux")[0]
    clip = nodes.NODE_CLASS_MAPPINGS["CLIPSetLastLayer"]().set_last_layer(clip, -2)[0]
    tokens = clip.tokenize(PROMPT)
    with torch.no_grad():
        hidden = models["t5xxl"](input_ids=torch.tensor(ids_of(tokens["t5xxl"])), output_hidden_states=True)
        expected = models["t5xxl"].encoder.final_layer_norm(hidden.hidden_states[1])  # block 0 of 2, normed
    torch.testing.assert_close(clip.encode_from_tokens(tokens), expected, atol=T5_ATOL, rtol=0)


def test_dual_clip_loader_sd3_joins_clip_l_and_g_features_and_pooled_vectors(flow_text_encoders):
    _, models = flow_text_encoders
    clip = nodes.NODE_CLASS_MAPPINGS["DualCLIPLoader"]().load_clip(
        "tiny-clip_l.safetensors", "tiny-clip_g.safetensors", "sd3")[0]
    assert isinstance(clip.cond_stage_model, SD3ClipModel) and clip.cond_stage_model.t5xxl is None
    tokens = clip.tokenize(PROMPT)
    assert len(tokens["t5xxl"][0]) == 77 and tokens["g"][0][8][0] == 0 and tokens["l"][0][8][0] == 49407
    cond, pooled = clip.encode_from_tokens(tokens, return_pooled=True)
    l_hidden, l_pooled, _ = clip_reference(models["clip_l"], ids_of(tokens["l"])[0])
    g_hidden, _, g_projected = clip_reference(models["clip_g"], ids_of(tokens["g"])[0])
    # Reduced widths: the CLIP features are the whole context (real widths are zero-padded to 4096).
    torch.testing.assert_close(cond, torch.cat([l_hidden, g_hidden], dim=-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(pooled, torch.cat([l_pooled, g_projected], dim=-1), atol=1e-5, rtol=0)


def test_triple_clip_loader_pads_the_clip_features_to_t5s_width_and_appends_the_t5_tokens(flow_text_encoders):
    _, models = flow_text_encoders
    clip = nodes.NODE_CLASS_MAPPINGS["TripleCLIPLoader"]().load_clip(
        "tiny-clip_g.safetensors", "tiny-t5xxl_fp8_e4m3fn.safetensors", "tiny-clip_l.safetensors")[0]
    tokens = clip.tokenize(PROMPT)
    (cond, extra), = CLIPTextEncodeSD3().encode(clip, PROMPT, PROMPT, PROMPT, "none")[0]
    assert cond.shape == (1, 77 + 77, 80) and extra["pooled_output"].shape == (1, 64)
    l_hidden, _, _ = clip_reference(models["clip_l"], ids_of(tokens["l"])[0])
    g_hidden, _, _ = clip_reference(models["clip_g"], ids_of(tokens["g"])[0])
    torch.testing.assert_close(cond[:, :77, :64], torch.cat([l_hidden, g_hidden], dim=-1), atol=1e-5, rtol=0)
    assert not cond[:, :77, 64:].any()
    torch.testing.assert_close(cond[:, 77:], t5_reference(models["t5xxl"], ids_of(tokens["t5xxl"])),
                               atol=T5_ATOL, rtol=0)
    (empty_cond, empty_extra), = CLIPTextEncodeSD3().encode(clip, "", "", "", "none")[0]
    assert empty_cond.shape == (1, 1, 80) and not empty_extra["pooled_output"].any()  # T5's lone EOS


def test_clip_loader_sd3_with_only_a_t5_gives_t5_tokens_and_zero_pooled(flow_text_encoders):
    _, models = flow_text_encoders
    clip = nodes.NODE_CLASS_MAPPINGS["CLIPLoader"]().load_clip("tiny-t5xxl_fp8_e4m3fn.safetensors", "sd3")[0]
    tokens = clip.tokenize(PROMPT)
    cond, pooled = clip.encode_from_tokens(tokens, return_pooled=True)
    torch.testing.assert_close(cond, t5_reference(models["t5xxl"], ids_of(tokens["t5xxl"])), atol=T5_ATOL, rtol=0)
    assert pooled.shape == (1, 768 + 1280) and not pooled.any()


def test_checkpoints_text_encoders_load_by_comfyuis_sd3_and_flux_prefixes(t5_file_and_model):
    clip_l, _ = model_factory.tiny_text_encoder_state_dict("clip_l", seed=1)
    clip_g, _ = model_factory.tiny_text_encoder_state_dict("clip_g", seed=2)
    t5_file, t5_model = t5_file_and_model

    def prefixed(kind, weights):
        return {f"text_encoders.{kind}.transformer.{key}": value for key, value in weights.items()}

    sd3 = clip_from_checkpoint({**prefixed("clip_l", clip_l), **prefixed("clip_g", clip_g)}, "tiny-sd3.safetensors")
    assert isinstance(sd3.cond_stage_model, SD3ClipModel) and sd3.cond_stage_model.t5xxl is None
    sd3_t5 = clip_from_checkpoint({**prefixed("clip_l", clip_l), **prefixed("clip_g", clip_g),
                                   **prefixed("t5xxl", t5_file)}, "tiny-sd3-t5.safetensors")
    assert sd3_t5.cond_stage_model.t5xxl is not None
    flux = clip_from_checkpoint({**prefixed("clip_l", clip_l), **prefixed("t5xxl", t5_file),
                                 "model.diffusion_model.img_in.weight": torch.zeros(1)}, "tiny-flux.safetensors")
    assert isinstance(flux.cond_stage_model, FluxClipModel)
    tokens = flux.tokenize(PROMPT)
    torch.testing.assert_close(flux.encode_from_tokens(tokens), t5_reference(t5_model, ids_of(tokens["t5xxl"])),
                               atol=T5_ATOL, rtol=0)
    # As the checkpoint loader hands the parts over: prefixes stripped, kinds named.
    parts = clip_from_text_encoder_state_dicts([clip_l, t5_file], "flux", ["ckpt (clip_l)", "ckpt (t5xxl)"],
                                               kinds=["clip_l", "t5xxl"])
    assert torch.equal(parts.encode_from_tokens(tokens), flux.encode_from_tokens(tokens))


def test_a_flux_clip_with_fp8_t5_round_trips_through_get_sd_and_full_model_load_sd(flow_text_encoders):
    clip = nodes.NODE_CLASS_MAPPINGS["DualCLIPLoader"]().load_clip(
        "tiny-clip_l.safetensors", "tiny-t5xxl_fp8_e4m3fn.safetensors", "flux")[0]
    saved = clip.get_sd()
    assert saved["t5xxl.transformer.shared.weight"].dtype == torch.float8_e4m3fn
    encoders = {"clip_l": {key.removeprefix("clip_l.transformer."): value for key, value in saved.items()
                           if key.startswith("clip_l.")},
                "t5xxl": {key.removeprefix("t5xxl.transformer."): value for key, value in saved.items()
                          if key.startswith("t5xxl.") and key != "t5xxl.transformer.encoder.embed_tokens.weight"}}
    fresh = CLIP(clip_target_for(encoders, clip_type="flux"))
    result = fresh.load_sd(saved, full_model=True)
    assert not result.missing_keys and not result.unexpected_keys
    tokens = clip.tokenize(PROMPT)
    assert torch.equal(fresh.encode_from_tokens(tokens), clip.encode_from_tokens(tokens))


def test_a_t5_file_where_a_clip_is_expected_is_refused_naming_the_file(flow_text_encoders):
    loader = nodes.NODE_CLASS_MAPPINGS["DualCLIPLoader"]()
    with pytest.raises(TextEncoderLoadError, match=r"tiny-t5xxl_fp8_e4m3fn\.safetensors is a T5-XXL .*'sdxl'.*\[49408, width\]"):
        loader.load_clip("tiny-clip_l.safetensors", "tiny-t5xxl_fp8_e4m3fn.safetensors", "sdxl")
    with pytest.raises(TextEncoderLoadError, match=r"tiny-t5xxl_fp8_e4m3fn\.safetensors is a T5-XXL"):
        nodes.NODE_CLASS_MAPPINGS["CLIPLoader"]().load_clip("tiny-t5xxl_fp8_e4m3fn.safetensors", "stable_diffusion")
    with pytest.raises(TextEncoderLoadError, match=r"'flux' needs one CLIP-L and one T5-XXL.*\(tiny-clip_g\.safetensors\)"):
        loader.load_clip("tiny-clip_l.safetensors", "tiny-clip_g.safetensors", "flux")
    with pytest.raises(TextEncoderLoadError, match=r"Two t5xxl text encoders"):
        loader.load_clip("tiny-t5xxl_fp8_e4m3fn.safetensors", "tiny-t5xxl_fp8_e4m3fn.safetensors", "sd3")


# --- ComfyUI's numbers on the full-size reference files ---------------------------------------------------


def test_flux_t5_and_clip_l_reproduce_comfyuis_probe(flow_reference_models, monkeypatch):
    """One batch through the full-size fp8 T5-XXL: "a photo of a (cat:1.2)" encodes its tokens (= "a photo of a
    cat") together with the empty sequence, so the probe's t5_cond, t5_cond_empty and weighted rows all come
    from it (T5 within 1e-2 abs, CLIP-L pooled within 1e-4)."""
    probe = load_file(str(FIXTURES / "flux_t5_probe.safetensors"))
    recorded = json.loads((FIXTURES / "flux_t5_probe.json").read_text())["tokens"]
    folder = flow_reference_models / "text_encoders"
    clip = comfy.sd.load_clip([str(folder / "ref-clip_l.safetensors"), str(folder / "ref-t5xxl_fp8_e4m3fn.safetensors")],
                              clip_type="flux")
    encoder = clip.cond_stage_model.t5xxl
    assert encoder.transformer.encoder.block[23].layer[1].DenseReluDense.wi_0.weight.dtype == torch.float8_e4m3fn
    tokens = clip.tokenize(WEIGHTED_PROMPT)
    assert tokens["t5xxl"] == [[tuple(pair) for pair in chunk] for chunk in recorded["t5_cond_weighted"]["t5xxl"]]
    assert tokens["l"] == [[tuple(pair) for pair in chunk] for chunk in recorded["t5_cond_weighted"]["l"]]

    batches = []
    original = encoder.encode
    monkeypatch.setattr(encoder, "encode", lambda token_lists: batches.append(original(token_lists)[0]) or
                        (batches[-1], None))
    cond, pooled = clip.encode_from_tokens(tokens, return_pooled=True)
    (raw,) = batches
    assert raw.shape == (2, 256, 4096)

    def max_diff(actual, expected):
        return float((actual - expected).abs().max())

    assert max_diff(raw[0:1], probe["t5_cond"]) <= 1e-2
    assert max_diff(raw[1:2], probe["t5_cond_empty"]) <= 1e-2
    assert max_diff(cond[:, :8], probe["t5_cond_weighted_rows0_7"]) <= 1e-2
    assert max_diff(cond[:, 8:], probe["t5_cond"][:, 8:]) <= 1e-2
    assert max_diff(pooled, probe["clip_l_pooled"]) <= 1e-4  # weights do not reach the pooled vector
    empty_l = clip.tokenize("")["l"]
    _, empty_pooled = clip.cond_stage_model.clip_l.encode_token_weights(empty_l)
    assert max_diff(empty_pooled, probe["clip_l_pooled_empty"]) <= 1e-4


@pytest.mark.parametrize("source", ["DualCLIPLoader", "CheckpointLoaderSimple"])
def test_sd3_clip_l_and_g_reproduce_comfyuis_conditioning(flow_reference_models, source):
    """SD3's full-size CLIP-L and CLIP-G, no T5 (DualCLIPLoader type sd3 with the separate files, or the
    single-file checkpoint): the e2e case's recorded cond [1, 77, 4096] (zero-padded past 2048) and pooled
    [1, 2048], within 1e-4."""
    recorded = load_file(str(FIXTURES / "e2e_flow" / "sd3_euler_simple.safetensors"))
    folder = flow_reference_models / "text_encoders"
    if source == "DualCLIPLoader":
        clip = comfy.sd.load_clip([str(folder / "ref-clip_l.safetensors"), str(folder / "ref-clip_g.safetensors")],
                                  clip_type="sd3")
    else:
        clip = comfy.sd.load_checkpoint_guess_config(
            str(flow_reference_models / "checkpoints" / "ref-sd3.safetensors"), output_vae=False)[1]
    for side, text in {"positive": PROMPT, "negative": "blurry"}.items():
        (cond, extra), = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]().encode(clip, text)[0]
        assert cond.shape == (1, 77, 4096) and not cond[..., 2048:].any()
        assert float((cond - recorded[f"cond_{side}"]).abs().max()) <= 1e-4
        assert float((extra["pooled_output"] - recorded[f"pooled_{side}"]).abs().max()) <= 1e-4


# --- all-in-one reduced checkpoints: model, VAE and text encoders from one file ----------------------------


@pytest.mark.parametrize(("family", "vae_prefix"), [("FluxSchnell", "vae."), ("SD3", "first_stage_model.")])
def test_an_all_in_one_reduced_checkpoint_encodes_and_samples_through_the_nodes(base, family, vae_prefix):
    """The seed's workflow shape on one file: CheckpointLoaderSimple → CLIPTextEncode → KSampler → VAEDecode."""
    state_dict = model_factory.tiny_flow_model_state_dict(family, prefixed=True)
    state_dict.update(model_factory.tiny_vae16_state_dict(prefix=vae_prefix))
    for kind, weights in model_factory.tiny_flow_text_encoder_state_dicts(family).items():
        state_dict.update({f"text_encoders.{kind}.transformer.{key}": value for key, value in weights.items()})
    model_factory.write_safetensors(base / "models" / "checkpoints" / "tiny-all-in-one.safetensors", state_dict)
    model, clip, vae = nodes.NODE_CLASS_MAPPINGS["CheckpointLoaderSimple"]().load_checkpoint("tiny-all-in-one.safetensors")
    assert isinstance(clip.cond_stage_model, FluxClipModel if family == "FluxSchnell" else SD3ClipModel)
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, PROMPT)[0], encode.encode(clip, "blurry")[0]
    spec = model_factory.TINY_FLOW_SPECS[family]
    assert positive[0][0].shape[-1] == spec.context_dim and positive[0][1]["pooled_output"].shape == (1, spec.pooled_dim)
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(64, 64, 1)[0]
    with torch.inference_mode():
        samples = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, 42, 2, 1.0 if family == "FluxSchnell" else 4.0,
                                                                 "euler", "simple", positive, negative, latent)[0]
        image = nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, samples)[0]
    assert image.shape == (1, 64, 64, 3) and torch.isfinite(image).all()
