"""The attention-level patch nodes of issue 18 (attention multipliers, HyperTile, SAG, PAG) and the library
behaviour they rest on, on small tensors. Their numbers on the reference SD1.5 checkpoint are compared with
ComfyUI's in tests/e2e/test_reference_attention_nodes.py."""

from __future__ import annotations

import torch

import comfy.lora
from comfy.model_patcher import ModelPatcher
from comfy_extras import nodes_attention_multiply


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
