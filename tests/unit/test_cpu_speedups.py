"""comfy.cpu_speedups: the UNet's faster CPU modules give the numbers of torch's plain ones."""

import pytest
import torch

import comfy.sd
from comfy.cpu_speedups import ContextProjection, SmallMapConv2d, plain_modules, speed_up_unet
from tests import model_factory


def small_map_convolution(in_channels: int = 6, out_channels: int = 5, bias: bool = True) -> SmallMapConv2d:
    torch.manual_seed(0)
    convolution = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias)
    speed_up_unet(convolution)
    assert type(convolution) is SmallMapConv2d
    return convolution


@pytest.mark.parametrize("side", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("bias", [True, False])
def test_small_map_convolution_matches_the_plain_one_at_every_size(side, bias):
    convolution = small_map_convolution(bias=bias)
    x = torch.randn(2, 6, side, side)
    expected = torch.nn.functional.conv2d(x, convolution.weight, convolution.bias, padding=1)
    torch.testing.assert_close(convolution(x), expected, rtol=1e-5, atol=1e-6)


def test_one_pixel_convolution_follows_a_changed_weight():
    convolution = small_map_convolution()
    x = torch.randn(1, 6, 1, 1)
    convolution(x)
    with torch.no_grad():
        convolution.weight.mul_(2)
    expected = torch.nn.functional.conv2d(x, convolution.weight, convolution.bias, padding=1)
    torch.testing.assert_close(convolution(x), expected, rtol=1e-5, atol=1e-6)


def context_projection() -> ContextProjection:
    torch.manual_seed(0)
    projection = torch.nn.Linear(8, 4, bias=False)
    projection.__class__ = ContextProjection
    return projection


def test_context_projection_reuses_its_output_for_an_equal_context():
    projection = context_projection()
    context = torch.randn(2, 7, 8)
    with torch.inference_mode():
        first = projection(context)
        again = projection(context.clone())
    assert again is first
    torch.testing.assert_close(first, context @ projection.weight.T)


def test_context_projection_recomputes_for_a_new_context_or_new_weights():
    projection = context_projection()
    context = torch.randn(2, 7, 8)
    with torch.inference_mode():
        first = projection(context)
        other = context + 1
        torch.testing.assert_close(projection(other), other @ projection.weight.T)
        projection(context)
    with torch.no_grad():
        projection.weight.add_(1)  # as a LoRA patch does, in place
    with torch.inference_mode():
        patched = projection(context)
    assert patched is not first
    torch.testing.assert_close(patched, context @ projection.weight.T)


def test_context_projection_keeps_nothing_outside_inference_mode():
    projection = context_projection()
    context = torch.randn(1, 3, 8, requires_grad=True)
    projection(context).sum().backward()
    assert projection._last is None and context.grad is not None


def test_a_unet_with_the_speed_ups_matches_the_plain_modules(tmp_path):
    """The tiny SD2 UNet has four levels, so an 8x8 latent reaches 1x1 maps, and every speed-up runs."""
    path = tmp_path / "sd2.safetensors"
    model_factory.write_tiny_checkpoint(path, "SD20", 0)
    patcher, _, _, _ = comfy.sd.load_checkpoint_guess_config(str(path), output_vae=False, output_clip=False)
    base = patcher.model
    unet = base.diffusion_model
    assert {SmallMapConv2d, ContextProjection} <= {type(module) for module in unet.modules()}
    x, sigma = torch.randn(2, 4, 8, 8), torch.tensor([14.6, 3.0])
    context = torch.randn(2, 77, 32)
    with torch.inference_mode():
        fast = [base.apply_model(x, sigma, c_crossattn=context) for _ in range(2)]  # the second reuses K/V
        with plain_modules(unet):
            assert not {SmallMapConv2d, ContextProjection} & {type(module) for module in unet.modules()}
            plain = base.apply_model(x, sigma, c_crossattn=context)
    assert {SmallMapConv2d, ContextProjection} <= {type(module) for module in unet.modules()}
    for output in fast:
        torch.testing.assert_close(output, plain, rtol=1e-4, atol=1e-4)  # summation order only
