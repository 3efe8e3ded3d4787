"""comfy.weight_streaming (--lowvram / --novram): layers over the byte budget are streamed to the device per call.

This machine has no GPU, so the device in these tests is `meta`: a layer whose weights were not brought to the
device for its call fails with torch's device-mismatch error, so a pass that completes on `meta` shows every
weight arrived; numbers are checked on the CPU, where the copies are the weights themselves.
"""

import pytest
import torch

import comfy.model_management
from comfy.cli_args import args
from comfy.model_patcher import ModelPatcher
from comfy.weight_streaming import DEVICE_RESERVE_BYTES, layers_with_weights, own_bytes, place_weights, streaming_budget
from tests import model_factory

META = torch.device("meta")
MIB = 2**20


@pytest.fixture
def unet():
    return model_factory.build_tiny_models("SD15", 0).unet


def run(unet, device=torch.device("cpu")):
    sample = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0)).to(device)
    context = torch.randn(2, 77, 32, generator=torch.Generator().manual_seed(1)).to(device)
    with torch.inference_mode():
        return unet(sample, torch.tensor([500.0, 20.0], device=device), encoder_hidden_states=context).sample


def weights_of(model):
    return {name: (tensor, tensor.clone()) for name, tensor in model.state_dict(keep_vars=True).items()}


def test_novram_streams_every_layer_and_gives_each_its_weights_for_the_call(unet):
    before = weights_of(unet)
    placement = place_weights(unet, META, budget_bytes=0)
    assert placement.resident == [] and placement.resident_bytes == 0
    assert placement.streamed == layers_with_weights(unet)
    output = run(unet, META)
    assert output.shape == (2, 4, 8, 8) and output.device == META
    after = unet.state_dict(keep_vars=True)
    for name, (original, values) in before.items():
        assert after[name] is original and torch.equal(after[name], values), name  # untouched, on the CPU
    placement.remove(torch.device("cpu"))
    assert all(not module._forward_pre_hooks and not module._forward_hooks for module in unet.modules())


def test_a_budget_keeps_the_first_layers_that_fit_and_streams_the_rest(unet):
    total = sum(own_bytes(module) for module in layers_with_weights(unet))
    placement = place_weights(unet, META, budget_bytes=total // 2)
    assert 0 < placement.resident_bytes <= total // 2
    assert placement.resident_bytes + placement.streamed_bytes == total
    assert all(tensor.device == META for module in placement.resident for tensor in module.parameters(recurse=False))
    assert all(tensor.device.type == "cpu" for module in placement.streamed
               for tensor in module.parameters(recurse=False))
    assert run(unet, META).shape == (2, 4, 8, 8)


def test_streamed_layers_compute_the_same_numbers(unet):
    expected = run(unet)
    placement = place_weights(unet, torch.device("cpu"), budget_bytes=own_bytes(unet.conv_in))
    assert placement.streamed
    torch.testing.assert_close(run(unet), expected, rtol=0, atol=0)


def test_a_failing_call_still_puts_the_weights_back():
    layer = torch.nn.Linear(4, 3)
    weight = layer.weight
    place_weights(layer, META, budget_bytes=0)
    with pytest.raises(RuntimeError):
        layer(torch.randn(2, 5, device=META))  # wrong width: the call fails after the weights arrived
    assert layer.weight is weight and weight.device.type == "cpu"


@pytest.mark.parametrize(("model", "free", "required", "lowvram", "novram", "expected"), [
    (1000 * MIB, 8000 * MIB, 100 * MIB, False, False, None),  # fits: loaded whole
    (1000 * MIB, 1000 * MIB, 100 * MIB, False, False, 1000 * MIB - 100 * MIB - DEVICE_RESERVE_BYTES),  # streamed
    (1000 * MIB, 8000 * MIB, 100 * MIB, True, False, 1000 * MIB),  # --lowvram: all fits, all resident
    (1000 * MIB, 900 * MIB, 100 * MIB, True, False, 900 * MIB - 100 * MIB - DEVICE_RESERVE_BYTES),
    (1000 * MIB, 100 * MIB, 100 * MIB, True, False, 0),
    (1000 * MIB, 8000 * MIB, 100 * MIB, False, True, 0),  # --novram: nothing resident
])
def test_the_budget_follows_comfyuis_memory_modes(model, free, required, lowvram, novram, expected):
    assert streaming_budget(model, free, required, lowvram=lowvram, novram=novram) == expected


def test_novram_loading_through_model_management_streams_and_unloads_cleanly(unet, monkeypatch):
    monkeypatch.setattr(args, "novram", True)
    patcher = ModelPatcher(unet, load_device=META, offload_device=torch.device("cpu"))
    before = weights_of(unet)
    comfy.model_management.load_models_gpu([patcher])
    try:
        loaded = next(loaded for loaded in comfy.model_management.current_loaded_models if loaded.model is unet)
        assert loaded.placement is not None and loaded.loaded_bytes() == 0
        assert run(unet, META).shape == (2, 4, 8, 8)
    finally:
        comfy.model_management.unload_all_models()
    assert all(not module._forward_pre_hooks for module in unet.modules())
    after = unet.state_dict(keep_vars=True)
    for name, (_, values) in before.items():
        assert after[name].device.type == "cpu" and torch.equal(after[name], values), name
