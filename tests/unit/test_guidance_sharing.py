"""A loaded ControlNet is one network shared by every conditioning that uses it: applying it to the positive and
negative prompts, and chaining it twice, makes controls that hold the same network and patcher, and sampling
loads that patcher once, in the diffusion model's memory budget (with the bytes the chain needs to run)."""

from __future__ import annotations

import torch

import comfy.samplers
from comfy.guidance.control import ControlNet
from comfy.guidance.sd_controlnet import ControlNetwork
from core_nodes.controlnet import apply_control


def _tiny_controlnet() -> ControlNet:
    from diffusers import ControlNetModel

    network = ControlNetModel(block_out_channels=(8, 16), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                              layers_per_block=1, cross_attention_dim=8, attention_head_dim=2, norm_num_groups=4,
                              conditioning_embedding_out_channels=(4, 8))
    return ControlNet(ControlNetwork(network.eval()))


def test_one_loaded_controlnet_is_shared_by_every_conditioning_and_loaded_once():
    loaded = _tiny_controlnet()
    hint = torch.rand(1, 16, 16, 3)
    positive = [[torch.zeros(1, 4, 8), {}]]
    negative = [[torch.zeros(1, 4, 8), {}]]
    positive, negative = apply_control(positive, negative, loaded, hint, 1.0, 0.0, 0.5)
    positive, negative = apply_control(positive, negative, loaded, hint, 0.5, 0.3, 1.0)

    controls = [entry[1]["control"] for entry in positive + negative]
    chain = [controls[0], controls[0].previous_controlnet]
    assert all(control.control_model is loaded.control_model for control in chain)
    assert all(control.control_model_wrapped is loaded.control_model_wrapped for control in chain)
    assert controls[0] is controls[1]  # positive and negative share the chain (ControlNetApplyAdvanced)

    conds = {name: comfy.samplers.convert_cond(entries) for name, entries in
             (("positive", positive), ("negative", negative))}
    patchers, memory = comfy.samplers.additional_models(conds)
    assert patchers == [loaded.control_model_wrapped]
    assert memory >= 0
