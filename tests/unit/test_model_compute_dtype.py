"""ModelComputeDtype: a clone of the model whose network computes in another dtype, its float32 weights cast per
layer call (comfy.manual_cast.layers_cast_per_call), and the CPU attention that rounds its scores to a reduced
compute dtype as ComfyUI's does. The latents against ComfyUI's: tests/e2e/test_reference_node_replays.py."""

import pytest
import torch

import comfy.cpu_speedups
import comfy.ldm.modules.attention as attention
import comfy.manual_cast
import comfy.ops
from comfy.model_patcher import ModelPatcher
from comfy_extras.nodes_model_advanced import ModelComputeDtype


def _patcher() -> ModelPatcher:
    return ModelPatcher(torch.nn.Linear(2, 2), torch.device("cpu"), torch.device("cpu"))


def test_the_node_patches_a_clone_and_leaves_the_model_alone():
    model = _patcher()
    (half,) = ModelComputeDtype().patch(model, "fp16")
    assert half is not model and half.get_model_object("compute_dtype") is torch.float16
    assert "compute_dtype" not in model.object_patches
    (brain,) = ModelComputeDtype().patch(half, "bf16")
    assert brain.get_model_object("compute_dtype") is torch.bfloat16
    assert half.get_model_object("compute_dtype") is torch.float16


def test_default_returns_to_the_dtype_the_model_was_loaded_to_compute_in():
    (half,) = ModelComputeDtype().patch(_patcher(), "fp16")
    (default,) = ModelComputeDtype().patch(half, "default")
    assert "compute_dtype" not in default.object_patches


def _network(speed_ups: bool = True) -> torch.nn.Module:
    """Plain layers and Kiln's CPU speed-ups of them (an 8x8 map: the speed-up convolution computes as torch's)."""
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.GroupNorm(4, 8),
                                  torch.nn.Conv2d(8, 2, 1), torch.nn.Flatten(), torch.nn.LayerNorm(128),
                                  torch.nn.Linear(128, 3))
    if speed_ups:
        comfy.cpu_speedups.speed_up_unet(network)
    return network


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_float32_layers_compute_as_if_their_weights_were_in_the_compute_dtype(dtype):
    network, cast_copy = _network(), _network(speed_ups=False).to(dtype)
    classes = [type(module) for module in network.modules()]
    weights = {name: value.clone() for name, value in network.state_dict().items()}
    x = torch.randn(2, 4, 8, 8).to(dtype)
    with torch.no_grad(), comfy.manual_cast.layers_cast_per_call(network, dtype):
        output = network(x)
    assert output.dtype == dtype
    torch.testing.assert_close(output, cast_copy(x), rtol=0, atol=0)
    assert [type(module) for module in network.modules()] == classes
    assert all(torch.equal(value, weights[name]) for name, value in network.state_dict().items())


def test_layers_already_in_the_compute_dtype_are_left_as_they_are():
    network = _network()
    with comfy.manual_cast.layers_cast_per_call(network, torch.float32):
        assert not any(isinstance(module, comfy.ops.CastWeightBiasOp) for module in network.modules())
    assert isinstance(network[0], comfy.cpu_speedups.SmallMapConv2d)


def _qkv(dtype: torch.dtype, queries: int = 16, keys: int = 20) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return tuple((torch.randn(2, tokens, 64, generator=generator) * scale).to(dtype)
                 for tokens, scale in ((queries, 3), (keys, 3), (keys, 1)))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize(("queries", "keys"), [(16, 20), (1100, 1100)])  # (more queries than one chunk holds)
def test_reduced_precision_cpu_attention_rounds_the_scaled_scores_to_the_inputs_dtype(dtype, queries, keys):
    q, k, v = _qkv(dtype, queries, keys)
    heads = 4
    split = [t.reshape(2, -1, heads, 16).transpose(1, 2).reshape(2 * heads, -1, 16) for t in (q, k, v)]
    scores = torch.baddbmm(torch.zeros(2 * heads, queries, keys, dtype=dtype), split[0], split[1].transpose(1, 2),
                           alpha=16 ** -0.5, beta=0)
    expected = (scores.softmax(-1) @ split[2]).reshape(2, heads, queries, 16).transpose(1, 2).reshape(2, queries, 64)
    torch.testing.assert_close(attention.optimized_attention(q, k, v, heads), expected, rtol=0, atol=0)
    torch.testing.assert_close(attention.attention_sub_quad(q, k, v, heads), expected, rtol=0, atol=0)


def test_float32_attention_is_torchs_kernel():
    q, k, v = _qkv(torch.float32)
    torch.testing.assert_close(attention.optimized_attention(q, k, v, 4), attention.attention_pytorch(q, k, v, 4),
                               rtol=0, atol=0)
