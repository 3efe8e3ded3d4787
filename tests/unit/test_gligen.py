"""GLIGEN's pieces (comfy/guidance/gligen.py): boxes in latent pixels become fractions of the latent, unused
slots are masked, each fuser is picked by the transformer index, and files that are not GLIGEN say so.
ComfyUI's numbers are checked end to end in tests/e2e/test_reference_gligen.py."""

from __future__ import annotations

import pytest
import torch

from comfy.guidance import gligen


def _tiny_gligen(key_dim: int = 8) -> gligen.Gligen:
    torch.manual_seed(0)
    fusers = [gligen.GatedSelfAttentionDense(16, key_dim, 2, 8) for _ in range(2)]
    for fuser in fusers:
        for parameter in fuser.parameters():
            torch.nn.init.normal_(parameter, std=0.1)
    position_net = gligen.PositionNet(key_dim, key_dim)
    for parameter in position_net.parameters():
        torch.nn.init.normal_(parameter, std=0.1)
    return gligen.Gligen(fusers, position_net, key_dim)


def test_boxes_are_fractions_of_the_latent_and_unused_slots_are_masked(monkeypatch):
    model = _tiny_gligen()
    seen = {}

    def capture(boxes, masks, phrases):
        seen.update(boxes=boxes, masks=masks, phrases=phrases)
        return lambda x, extra: x

    monkeypatch.setattr(model, "_set_position", capture)
    phrase = torch.ones(1, 8)
    model.set_position((2, 4, 8, 16), [(phrase, 4, 8, 2, 4)], "cpu")  # 4 high, 8 wide, at y 2, x 4
    assert seen["boxes"].shape == (2, 30, 4)
    assert seen["boxes"][0, 0].tolist() == [4 / 16, 2 / 8, 12 / 16, 6 / 8]
    assert seen["masks"][:, 0].tolist() == [1.0, 1.0] and seen["masks"][:, 1:].abs().sum() == 0
    assert torch.equal(seen["phrases"][1, 0], phrase[0]) and seen["phrases"][:, 1:].abs().sum() == 0


def test_the_middle_patch_uses_the_fuser_of_the_transformer_index():
    model = _tiny_gligen()
    patch = model.set_position((1, 4, 4, 4), [(torch.randn(1, 8), 2, 2, 0, 0)], "cpu")
    x = torch.randn(1, 16, 16)
    first, second = patch(x, {"transformer_index": 0}), patch(x, {"transformer_index": 1})
    assert not torch.allclose(first, x) and not torch.allclose(first, second)


def test_a_file_without_a_position_net_or_fusers_is_a_clear_error():
    with pytest.raises(ValueError, match="position_net"):
        gligen.load_gligen({"something.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="fusers"):
        gligen.load_gligen({"position_net.null_positive_feature": torch.zeros(8)})
