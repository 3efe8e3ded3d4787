"""Initial noise: bit-exact with ComfyUI's prepare_noise (fixtures/noise.safetensors)."""

import json

import pytest
import torch
from safetensors import safe_open

import comfy.sample
from tests.unit.analytic_model import FIXTURES


def _noise_cases():
    with safe_open(str(FIXTURES / "noise.safetensors"), "pt") as f:
        metadata = f.metadata()
        return [(name, json.loads(metadata[name]), f.get_tensor(name)) for name in f.keys()]


@pytest.mark.parametrize("name,params,expected", _noise_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_prepare_noise_is_bitwise_equal_to_comfyui(name, params, expected):
    latent = torch.zeros(params["shape"], dtype=torch.float32)
    noise = comfy.sample.prepare_noise(latent, params["seed"], params["batch_index"])
    assert noise.dtype == torch.float32 and noise.device.type == "cpu"
    assert torch.equal(noise, expected), name


def test_only_the_low_32_bits_of_the_seed_matter():
    latent = torch.zeros(1, 4, 8, 8)
    assert torch.equal(comfy.sample.prepare_noise(latent, 2**32 + 5), comfy.sample.prepare_noise(latent, 5))


def test_batch_index_keeps_each_latents_noise_when_taken_out_of_a_batch():
    latent = torch.zeros(3, 4, 8, 8)
    batch = comfy.sample.prepare_noise(latent, 7)
    picked = comfy.sample.prepare_noise(torch.zeros(2, 4, 8, 8), 7, [2, 0])
    assert torch.equal(picked[0], batch[2]) and torch.equal(picked[1], batch[0])


def test_empty_latent_is_widened_to_the_models_channel_count():
    class Model:
        latent_format = type("Format", (), {"latent_channels": 16, "latent_dimensions": 2})()

    class Patcher:
        model = Model()

    widened = comfy.sample.fix_empty_latent_channels(Patcher(), torch.zeros(1, 4, 8, 8))
    assert widened.shape == (1, 16, 8, 8)
    filled = torch.ones(1, 4, 8, 8)
    assert comfy.sample.fix_empty_latent_channels(Patcher(), filled) is filled
