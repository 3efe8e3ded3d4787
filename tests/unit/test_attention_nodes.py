"""The attention-level patch nodes of issue 18 (attention multipliers, HyperTile, SAG, PAG) and the library
behaviour they rest on, on small tensors. Their numbers on the reference SD1.5 checkpoint are compared with
ComfyUI's in tests/e2e/test_reference_node_replays.py."""

from __future__ import annotations

import pytest
import torch

import comfy.ldm.modules.attention as attention
import comfy.lora
from comfy.model_patcher import ModelPatcher
from comfy_extras import nodes_attention_multiply, nodes_hypertile, nodes_pag, nodes_sag


class _Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.to_q = torch.nn.Linear(4, 4, bias=False)
        self.to_k = torch.nn.Linear(4, 4, bias=False)
        self.to_v = torch.nn.Linear(4, 4, bias=False)
        self.to_out = torch.nn.ModuleList([torch.nn.Linear(4, 4)])


class _Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn1, self.attn2 = _Attention(), _Attention()


def _patcher() -> ModelPatcher:
    torch.manual_seed(0)
    model = torch.nn.Module()
    model.diffusion_model = _Block()
    return ModelPatcher(model, torch.device("cpu"), torch.device("cpu"))


def test_a_zero_strength_full_delta_of_none_only_scales_the_weight():
    weight = torch.randn(3, 4)
    patched = comfy.lora.add_weight_patches([(0.0, (None,), 1.5, None, None)], weight, weight.shape)
    assert torch.equal(patched, weight * 1.5)
    # a tensor delta at strength 0 adds nothing either (ComfyUI skips it)
    patched = comfy.lora.add_weight_patches([(0.0, torch.full((3, 4), float("nan")), 2.0)], weight, weight.shape)
    assert torch.equal(patched, weight * 2.0)


def test_self_attention_multiply_scales_the_attn1_projections_only():
    patcher = _patcher()
    before = {key: value.clone() for key, value in patcher.model.state_dict().items()}
    patched = nodes_attention_multiply.UNetSelfAttentionMultiply.execute(patcher, 2.0, 3.0, 4.0, 0.5).result[0]
    assert patched is not patcher and not patcher.patches
    assert set(patched.patches) == {"diffusion_model.attn1.to_q.weight", "diffusion_model.attn1.to_k.weight",
                                    "diffusion_model.attn1.to_v.weight", "diffusion_model.attn1.to_out.0.weight",
                                    "diffusion_model.attn1.to_out.0.bias"}
    patched.patch_model()
    after = patched.model.state_dict()
    for key, factor in (("attn1.to_q.weight", 2.0), ("attn1.to_k.weight", 3.0), ("attn1.to_v.weight", 4.0),
                        ("attn1.to_out.0.weight", 0.5), ("attn1.to_out.0.bias", 0.5), ("attn2.to_q.weight", 1.0)):
        assert torch.equal(after[f"diffusion_model.{key}"], before[f"diffusion_model.{key}"] * factor), key
    patched.unpatch_model()


def test_temporal_attention_multiply_treats_an_image_unet_as_all_structural():
    patched = nodes_attention_multiply.UNetTemporalAttentionMultiply.execute(_patcher(), 0.8, 2.0, 1.2, 3.0).result[0]
    factors = {key: patches[0][2] for key, patches in patched.patches.items()}
    assert factors == {"diffusion_model.attn1.to_out.0.weight": 0.8, "diffusion_model.attn1.to_out.0.bias": 0.8,
                       "diffusion_model.attn2.to_out.0.weight": 1.2, "diffusion_model.attn2.to_out.0.bias": 1.2}


def test_keys_of_a_smaller_batch_are_viewed_with_the_queries_batch():
    """ComfyUI's attention functions view k and v as `[q's batch, -1, heads, d]`: a query batch split in tiles
    attends to consecutive slices of the key tokens."""
    q, k, v = torch.randn(4, 3, 8), torch.randn(2, 6, 8), torch.randn(2, 6, 8)
    expected = attention.attention_basic(q, k.reshape(4, 3, 8), v.reshape(4, 3, 8), 2)
    for function in (attention.attention_basic, attention.attention_pytorch, attention.attention_split,
                     attention.attention_sub_quad):
        assert torch.allclose(function(q, k, v, 2), expected, atol=1e-6), function.__name__


def test_hypertile_tiles_are_the_tokens_of_each_tile_and_untile_back():
    tokens = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(2, 24, 1)  # batch 2 of a 4x6 grid
    tiles = nodes_hypertile._tile(tokens, 2, 3, 4, 6)
    assert tiles.shape == (12, 4, 1)
    assert tiles[1, :, 0].tolist() == [2.0, 3.0, 8.0, 9.0]  # first row of tiles, second tile: columns 2-3
    assert torch.equal(nodes_hypertile._untile(tiles, 2, 3, 4, 6), tokens)


def test_random_divisor_draws_from_the_global_generator_and_never_picks_the_last_option():
    torch.manual_seed(3)
    draws = [nodes_hypertile.random_divisor(16, 4, 3) for _ in range(40)]
    assert set(draws) == {4, 2}  # of the options 4, 2 and 1 tiles per side
    torch.manual_seed(3)
    assert [nodes_hypertile.random_divisor(16, 4, 3) for _ in range(40)] == draws
    assert nodes_hypertile.random_divisor(8, 4, 2) == 2  # options 2 and 1: the draw gives the first
    state = torch.get_rng_state()
    assert nodes_hypertile.random_divisor(8, 8, 2) == 1  # one option: no draw
    assert torch.equal(torch.get_rng_state(), state)


def test_hypertile_patches_tile_full_resolution_queries_and_restore_the_output():
    patched = nodes_hypertile.HyperTile.execute(_patcher(), 32, 1, 0, False).result[0]
    patches = patched.model_options["transformer_options"]["patches"]
    (tile,), (untile,) = patches["attn1_patch"], patches["attn1_output_patch"]
    extra = {"original_shape": [2, 4, 8, 8]}
    q = torch.randn(2, 64, 5)
    tiled, k, v = tile(q, q, q, extra)
    assert tiled.shape == (8, 16, 5) and k is q and v is q  # 2x2 tiles of 4x4 latent pixels
    assert torch.equal(untile(tiled, extra), q)
    smaller = torch.randn(2, 16, 5)  # a lower resolution: left alone
    assert tile(smaller, smaller, smaller, extra)[0] is smaller
    assert untile(smaller, extra) is smaller


def test_attention_with_weights_gives_attention_and_its_softmax_weights():
    q, k, v = torch.randn(2, 5, 8), torch.randn(2, 7, 8), torch.randn(2, 7, 8)
    out, weights = nodes_sag.attention_basic_with_sim(q, k, v, heads=2)
    assert torch.allclose(out, attention.attention_basic(q, k, v, 2), atol=1e-6)
    assert weights.shape == (4, 5, 7) and torch.allclose(weights.sum(-1), torch.ones(4, 5))
    keep = torch.tensor([[True] * 6 + [False], [True] * 7])
    _, masked = nodes_sag.attention_basic_with_sim(q, k, v, heads=2, mask=keep)
    assert masked[:2, :, 6].abs().max() == 0 and masked[2:, :, 6].min() > 0


def test_blur_map_blurs_where_attention_is_received_and_refuses_a_one_token_map():
    x0 = torch.randn(1, 4, 16, 16)
    attn = torch.zeros(2, 4, 4)  # 2 heads, a 2x2 map: every query attends to token 1 (top right)
    attn[:, :, 1] = 1.0
    blurred = nodes_sag.create_blur_map(x0, attn, sigma=2.0)
    full_blur = nodes_sag.gaussian_blur_2d(x0, 9, 2.0)
    assert torch.equal(blurred[..., :8, 8:], full_blur[..., :8, 8:])
    assert torch.equal(blurred[..., 8:, :], x0[..., 8:, :]) and torch.equal(blurred[..., :8, :8], x0[..., :8, :8])
    with pytest.raises(ValueError, match="larger image"):
        nodes_sag.create_blur_map(torch.randn(1, 4, 8, 8), torch.ones(2, 1, 1))


def test_gaussian_blur_keeps_a_constant_image():
    image = torch.full((1, 3, 10, 12), 0.7)
    assert torch.allclose(nodes_sag.gaussian_blur_2d(image, 9, 2.0), image, atol=1e-6)


def test_sag_replaces_the_middle_self_attention_and_records_the_uncond_weights():
    patched = nodes_sag.SelfAttentionGuidance.execute(_patcher(), 0.5, 2.0).result[0]
    options = patched.model_options
    assert options["disable_cfg1_optimization"] is True
    record = options["transformer_options"]["patches_replace"]["attn1"][("middle", 0, 0)]
    q, k, v = torch.randn(4, 3, 8), torch.randn(4, 3, 8), torch.randn(4, 3, 8)
    out = record(q, k, v, {"n_heads": 2, "cond_or_uncond": [1, 0], "attn_precision": None})
    assert torch.allclose(out, attention.attention_basic(q, k, v, 2), atol=1e-6)


def test_pag_reruns_the_cond_with_identity_middle_self_attention(monkeypatch):
    seen = {}

    def calc_cond_batch(model, conds, x, sigma, model_options):
        seen["conds"], seen["options"] = conds, model_options
        return [x * 0.25]

    monkeypatch.setattr(nodes_pag.comfy.samplers, "calc_cond_batch", calc_cond_batch)
    patched = nodes_pag.PerturbedAttentionGuidance.execute(_patcher(), 2.0).result[0]
    (guide,) = patched.model_options["sampler_post_cfg_function"]
    x = torch.ones(1, 4, 2, 2)
    model_options = patched.model_options
    result = guide({"model": None, "cond_denoised": x * 0.5, "cond": ["cond"], "denoised": x, "sigma": None,
                    "model_options": model_options, "input": x})
    assert torch.allclose(result, x + (0.5 - 0.25) * 2.0 * x)
    assert seen["conds"] == [["cond"]]
    identity = seen["options"]["transformer_options"]["patches_replace"]["attn1"][("middle", 0)]
    value = torch.randn(1, 3, 4)
    assert identity(None, None, value, {}) is value
    assert "patches_replace" not in model_options["transformer_options"]  # the model's own options are untouched
