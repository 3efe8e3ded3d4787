"""`ModelPatcher.add_patches` takes weights by ComfyUI's state-dict keys (`diffusion_model.` + the file's key), as
packs write them out: on a tiny FLUX.1, a delta on the fused `qkv` and a `LoRAAdapter` on a single block's
`linear1` land on the rows of the diffusers parameters that hold those weights, and the weight read back in
ComfyUI's layout is the original plus the patch. (The recorded end-to-end proof is
tests/e2e/test_reference_patcher_contract.py.)"""

from __future__ import annotations

import pytest
import torch

import comfy  # noqa: F401  (before diffusers)
import comfy.sd
from comfy.weight_adapter.lora import LoRAAdapter
from tests import model_factory

QKV = "double_blocks.0.img_attn.qkv.weight"
LINEAR1 = "single_blocks.0.linear1.weight"


@pytest.fixture(scope="module")
def flux():
    state = {key: value.float() for key, value in model_factory.tiny_flow_model_state_dict("Flux", seed=0).items()}
    # The loader may keep views of the tensors it is given: the originals to compare with are copies.
    return comfy.sd.load_diffusion_model_state_dict({key: value.clone() for key, value in state.items()}), state


def comfy_weight(patcher, key: str) -> torch.Tensor:
    """The weight ComfyUI names `key`, put together from the rows of Kiln's parameters that hold it."""
    parameters = patcher.model.state_dict()
    target = patcher.model.original_key_targets()["diffusion_model." + key]
    return torch.cat([parameters[piece.parameter][piece.start:piece.stop] for piece in target.pieces])


def test_a_delta_on_a_fused_weight_lands_on_its_rows(flux):
    model, state = flux
    patched = model.clone()
    delta = torch.linspace(-1, 1, state[QKV].numel()).reshape(state[QKV].shape)
    assert patched.add_patches({"diffusion_model." + QKV: ("diff", (delta,))}, 0.5) == ["diffusion_model." + QKV]
    patched.patch_model()
    try:
        torch.testing.assert_close(comfy_weight(patched, QKV), state[QKV] + 0.5 * delta)
    finally:
        patched.unpatch_model()
    torch.testing.assert_close(comfy_weight(model, QKV), state[QKV])


def test_a_lora_adapter_on_a_fused_weight_adds_its_low_rank_product(flux):
    model, state = flux
    patched = model.clone()
    rows, columns = state[LINEAR1].shape
    up, down = torch.randn(rows, 2, generator=torch.Generator().manual_seed(1)), torch.randn(2, columns)
    adapter = LoRAAdapter(set(), (up, down, 1.0, None, None, None))
    assert patched.add_patches({"diffusion_model." + LINEAR1: adapter}, 0.8) == ["diffusion_model." + LINEAR1]
    patched.patch_model()
    try:
        torch.testing.assert_close(comfy_weight(patched, LINEAR1), state[LINEAR1] + 0.8 * 0.5 * up @ down)
    finally:
        patched.unpatch_model()


def test_an_unknown_key_or_a_misshapen_delta_is_not_taken(flux):
    model, state = flux
    patched = model.clone()
    assert patched.add_patches({"diffusion_model.double_blocks.99.img_attn.qkv.weight": (torch.ones(3),)}) == []
    assert patched.add_patches({"diffusion_model." + QKV: ("diff", (torch.ones(5, 5),))}) == []
    assert patched.patches == {}


def test_a_lora_adapter_on_a_whole_weight_is_applied_by_calculate_weight():
    weight = torch.randn(6, 4)
    up, down = torch.randn(6, 2), torch.randn(2, 4)
    adapter = LoRAAdapter(set(), (up, down, 4.0, None, None, None))
    torch.testing.assert_close(adapter.calculate_weight(weight, "w", 0.5, 1.0, None, None),
                               weight + 0.5 * 2.0 * up @ down)
