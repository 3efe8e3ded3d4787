"""Stand-ins for the model interface the samplers call: an analytic denoiser for Gaussian data wrapped in a
minimal patcher, plus helpers to read the ComfyUI reference fixtures."""

from __future__ import annotations

import json

import torch

import comfy.latent_formats
import comfy.model_sampling
from comfy.model_patcher import ModelPatcher
from tests.conftest import FIXTURES


def load_json(name: str):
    return json.loads((FIXTURES / name).read_text())


class AnalyticDenoiser(torch.nn.Module):
    """The ideal denoiser for data ~ N(mu, s²) in model space: D(x, σ) = mu + s²/(s² + σ²)·(x − mu), float32.

    With `conditioned=True` the mean is sign·mu, sign = c_crossattn[b, 0, 0] (the fixtures' cfg-3 model).
    Records every call as (batch size, sigmas, signs)."""

    def __init__(self, mu: torch.Tensor, s: float = 0.5, conditioned: bool = False, model_type: str = "eps"):
        super().__init__()
        self.mu = mu
        self.s = s
        self.conditioned = conditioned
        self.model_sampling = comfy.model_sampling.model_sampling(model_type)
        self.latent_format = comfy.latent_formats.SD15()
        self.calls: list[dict] = []

    def extra_conds(self, cond: torch.Tensor, options: dict, noise: torch.Tensor) -> dict:
        return {"c_crossattn": cond}

    def apply_model(self, x, sigma, c_crossattn=None, transformer_options=None, **kwargs):
        signs = c_crossattn[:, 0, 0] if c_crossattn is not None else torch.zeros(x.shape[0])
        self.calls.append({"batch": x.shape[0], "sigma": sigma.tolist(), "sign": signs.tolist(),
                           "x": x.clone(), "transformer_options": transformer_options})
        mu = self.mu
        if self.conditioned:
            mu = signs.view(-1, 1, 1, 1) * mu
        sigma = sigma.view(-1, 1, 1, 1)
        s2 = self.s * self.s
        return mu + (s2 / (s2 + sigma * sigma)) * (x - mu)


class Patcher(ModelPatcher):
    """A ModelPatcher on the CPU around a stand-in model, with the given model_options."""

    def __init__(self, model, model_options: dict | None = None):
        super().__init__(model, torch.device("cpu"), torch.device("cpu"))
        if model_options is not None:
            self.model_options = model_options


def fixture_mu() -> torch.Tensor:
    return torch.linspace(-1, 1, 256, dtype=torch.float32).reshape(1, 4, 8, 8)


def assert_schedule_close(got: torch.Tensor, expected: list, where: str, rtol: float = 1e-5) -> None:
    """A sigma schedule equals a recorded one (NaN where it has NaN), relatively within `rtol`."""
    reference = torch.tensor(expected, dtype=torch.float64)
    got = got.double()
    assert got.shape == reference.shape, f"{where}: {len(got)} sigmas, expected {len(reference)}"
    assert torch.equal(torch.isnan(got), torch.isnan(reference)), f"{where}: NaN positions differ"
    finite = ~torch.isnan(reference)
    assert torch.allclose(got[finite], reference[finite], rtol=rtol, atol=0), f"{where}: {got} vs {reference}"
