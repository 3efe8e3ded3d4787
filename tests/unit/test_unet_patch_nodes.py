"""FreeU, FreeU_V2 and PatchModelAddDownscale (Kohya Deep Shrink): the Fourier filter, where each patch acts
and what it leaves alone, on tiny SD1 models (the recorded ComfyUI numbers are checked in
tests/e2e/test_reference_unet_patch_nodes.py)."""

from __future__ import annotations

import pytest
import torch

import comfy.model_base
from comfy.model_patcher import ModelPatcher
from comfy_extras.nodes_freelunch import Fourier_filter, FreeU, FreeU_V2
from comfy_extras.nodes_model_downscale import PatchModelAddDownscale
from tests.model_factory import build_tiny_models


def _masked_spectrum_filter(x: torch.Tensor, threshold: int, scale: float) -> torch.Tensor:
    """The filter written the long way: the shifted spectrum times a mask of ones holding `scale` in the centred
    box."""
    spectrum = torch.fft.fftshift(torch.fft.fftn(x.float(), dim=(-2, -1)), dim=(-2, -1))
    height, width = spectrum.shape[-2:]
    mask = torch.ones(spectrum.shape)
    mask[..., height // 2 - threshold:height // 2 + threshold, width // 2 - threshold:width // 2 + threshold] = scale
    return torch.fft.ifftn(torch.fft.ifftshift(spectrum * mask, dim=(-2, -1)), dim=(-2, -1)).real.to(x.dtype)


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (3, 5), (8, 8)])
def test_fourier_filter_scales_the_centred_low_frequencies(size):
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    assert torch.equal(Fourier_filter(x, threshold=1, scale=0.2), _masked_spectrum_filter(x, 1, 0.2))
    torch.testing.assert_close(Fourier_filter(x, threshold=1, scale=1.0), x)


def test_fourier_filter_keeps_the_dtype():
    x = torch.randn(1, 2, 4, 4).half()
    assert Fourier_filter(x, 1, 0.5).dtype == torch.float16


@pytest.fixture(scope="module")
def tiny_model():
    unet = build_tiny_models("SD15", seed=2).unet
    return ModelPatcher(comfy.model_base.BaseModel(unet), torch.device("cpu"), torch.device("cpu"))


@pytest.mark.parametrize("node", [FreeU, FreeU_V2])
def test_freeu_scales_only_the_blocks_with_two_or_four_times_the_base_width(tiny_model, node):
    (patched,) = node().patch(tiny_model, b1=1.5, b2=1.2, s1=0.5, s2=0.2)
    (patch,) = patched.model_options["transformer_options"]["patches"]["output_block_patch"]
    assert "patches" not in tiny_model.model_options["transformer_options"]
    generator = torch.Generator().manual_seed(4)
    h, hsp = torch.randn(1, 32, 4, 4, generator=generator), torch.randn(1, 32, 4, 4, generator=generator)
    assert all(torch.equal(a, b) for a, b in zip(patch(h, hsp, {}), (h, hsp), strict=True))  # base width: kept
    h, hsp = torch.randn(1, 64, 4, 4, generator=generator), torch.randn(1, 32, 4, 4, generator=generator)
    new_h, new_hsp = patch(h.clone(), hsp, {})
    assert torch.equal(new_h[:, 32:], h[:, 32:])
    assert not torch.equal(new_h[:, :32], h[:, :32])
    assert torch.equal(new_hsp, Fourier_filter(hsp, 1, 0.2))


def test_freeu_on_a_tiny_model_changes_the_output_and_keeps_its_shape(tiny_model):
    (patched,) = FreeU().patch(tiny_model, b1=1.5, b2=1.2, s1=0.5, s2=0.2)
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(6))
    sigma = torch.tensor([3.0])
    context = torch.randn(1, 7, 32, generator=torch.Generator().manual_seed(7))
    plain = tiny_model.model.apply_model(x, sigma, c_crossattn=context, transformer_options={})
    freeu = tiny_model.model.apply_model(x, sigma, c_crossattn=context,
                                         transformer_options=dict(patched.model_options["transformer_options"]))
    assert freeu.shape == plain.shape
    assert not torch.equal(freeu, plain)


@pytest.mark.parametrize("after_skip", [True, False])
def test_deep_shrink_resizes_at_its_block_within_its_sigmas(tiny_model, after_skip):
    (patched,) = PatchModelAddDownscale.execute(tiny_model, block_number=3, downscale_factor=2.0, start_percent=0.0,
                                                end_percent=0.5, downscale_after_skip=after_skip,
                                                downscale_method="bicubic", upscale_method="bilinear")
    patches = patched.model_options["transformer_options"]["patches"]
    kind = "input_block_patch_after_skip" if after_skip else "input_block_patch"
    assert set(patches) == {kind, "output_block_patch"}
    (shrink,), (restore,) = patches[kind], patches["output_block_patch"]
    h = torch.randn(1, 8, 8, 8)
    early, late = torch.tensor([14.0]), torch.tensor([0.1])  # sigma of 0 % and past 50 %
    assert shrink(h, {"block": ("input", 3), "sigmas": early}).shape[-2:] == (4, 4)
    assert shrink(h, {"block": ("input", 3), "sigmas": late}) is h
    assert shrink(h, {"block": ("input", 2), "sigmas": early}) is h
    small, skip = torch.randn(1, 8, 4, 4), torch.randn(1, 8, 8, 8)
    restored, same_skip = restore(small, skip, {})
    assert restored.shape == skip.shape and same_skip is skip
