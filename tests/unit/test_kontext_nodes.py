"""FLUX.1 Kontext's weight-free nodes: FluxKontextImageScale picks the preferred size nearest the picture's aspect
ratio, as ComfyUI's table and rule do; FluxKontextMultiReferenceLatentMethod and ReferenceLatent set what the
model reads. Their numbers on the model are replayed in tests/e2e/test_flow_kontext.py."""

from __future__ import annotations

import pytest
import torch

from comfy_extras.nodes_edit_model import ReferenceLatent
from comfy_extras.nodes_flux import FluxKontextImageScale, FluxKontextMultiReferenceLatentMethod


@pytest.mark.parametrize(("height", "width", "expected"), [
    (48, 64, (880, 1184)), (64, 64, (1024, 1024)), (64, 32, (1456, 720)), (10, 40, (672, 1568))])
def test_kontext_scale_picks_the_nearest_preferred_aspect(height, width, expected):
    image = torch.rand(1, height, width, 3)
    (scaled,) = FluxKontextImageScale.execute(image).result
    assert tuple(scaled.shape[1:3]) == expected and scaled.shape[3] == 3


def test_reference_latents_chain_and_the_method_is_set():
    conditioning = [[torch.zeros(1, 4, 8), {"guidance": 3.5}]]
    first, second = torch.ones(1, 16, 6, 8), torch.full((1, 16, 8, 4), 2.0)
    (with_one,) = ReferenceLatent.execute(conditioning, {"samples": first}).result
    (with_two,) = ReferenceLatent.execute(with_one, {"samples": second}).result
    assert [t.shape for t in with_two[0][1]["reference_latents"]] == [first.shape, second.shape]
    assert "reference_latents" not in conditioning[0][1]  # the input is not changed
    (unchanged,) = ReferenceLatent.execute(conditioning, None).result
    assert unchanged is conditioning
    (placed,) = FluxKontextMultiReferenceLatentMethod.execute(with_two, "uxo/uno").result
    assert placed[0][1]["reference_latents_method"] == "uxo"
