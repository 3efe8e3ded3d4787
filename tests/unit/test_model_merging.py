"""Model merging (comfy_extras.nodes_model_merging and nodes_model_merging_model_specific): merges are weight
patches with ComfyUI's arithmetic, block ratios go by ComfyUI's weight names, and every node's /object_info equals
ComfyUI 0.3.64's (tests/fixtures/comfyui/object_info_0.3.64.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from comfy.model_patcher import ModelPatcher
from comfy_execution.node_info import node_info
from comfy_extras import nodes_model_merging as merging
from comfy_extras import nodes_model_merging_model_specific as model_specific

RECORDED = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "comfyui" / "object_info_0.3.64.json")
                      .read_text())
MERGE_NODES = sorted(set(merging.NODE_CLASS_MAPPINGS) | set(model_specific.NODE_CLASS_MAPPINGS))


def test_every_merge_node_of_comfyui_is_registered():
    recorded = {name for name, info in RECORDED.items()
                if info["python_module"] in ("comfy_extras.nodes_model_merging",
                                             "comfy_extras.nodes_model_merging_model_specific")}
    assert recorded == set(MERGE_NODES)


@pytest.mark.parametrize("name", MERGE_NODES)
def test_merge_node_object_info_equals_comfyui(registry, name):
    assert name in registry, f"{name} is not registered"
    kiln = node_info(name)
    assert kiln == RECORDED[name]
    assert list(kiln) == list(RECORDED[name])
    assert list(kiln["input"]["required"]) == list(RECORDED[name]["input"]["required"])


class _Holder(torch.nn.Module):
    def __init__(self, seed: int):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.diffusion_model = torch.nn.Module()
        self.diffusion_model.input = torch.nn.Linear(3, 2)
        self.diffusion_model.out = torch.nn.Linear(2, 2)
        for parameter in self.parameters():
            parameter.data = torch.randn(parameter.shape, generator=generator)


def _patcher(seed: int) -> ModelPatcher:
    return ModelPatcher(_Holder(seed), torch.device("cpu"), torch.device("cpu"))


def _weights(patcher: ModelPatcher) -> dict[str, torch.Tensor]:
    patcher.patch_model()
    weights = {key: value.detach().clone() for key, value in patcher.model.state_dict().items()}
    patcher.unpatch_model()
    return weights


def test_merge_simple_weighs_the_first_model_by_the_ratio():
    first, second = _patcher(1), _patcher(2)
    expected = {key: value * 0.3 + 0.7 * second.model.state_dict()[key]
                for key, value in first.model.state_dict().items()}
    (merged,) = merging.ModelMergeSimple().merge(first, second, 0.3)
    assert merged is not first
    for key, value in _weights(merged).items():
        assert torch.equal(value, expected[key]), key
    assert torch.equal(first.model.diffusion_model.input.weight, _Holder(1).diffusion_model.input.weight)


def test_the_second_models_own_patches_are_merged_with_it():
    first, second = _patcher(1), _patcher(2)
    lora_up, lora_down = torch.ones(2, 1), torch.full((1, 3), 0.5)
    patched = second.clone()
    patched.add_patches({"diffusion_model.input.weight": (lora_up, lora_down, None)})
    (difference,) = merging.ModelSubtract().merge(patched, second, 1.0)
    (sum_,) = merging.ModelAdd().merge(first, difference)
    weights = _weights(sum_)
    assert torch.allclose(weights["diffusion_model.input.weight"],
                          first.model.diffusion_model.input.weight + lora_up @ lora_down)
    assert torch.equal(weights["diffusion_model.out.weight"], first.model.diffusion_model.out.weight)


def test_block_merge_takes_the_longest_matching_prefix_and_else_the_first_ratio():
    ratios = {"input": 0.2, "middle": 0.5, "out": 0.9, "input_blocks.1.": 0.4}
    assert merging.block_ratio("input_blocks.1.1.proj_in.weight", ratios, 0.2) == 0.4
    assert merging.block_ratio("input_blocks.10.0.skip.weight", ratios, 0.2) == 0.2
    assert merging.block_ratio("output_blocks.3.0.in_layers.2.weight", ratios, 0.2) == 0.9
    assert merging.block_ratio("time_embed.0.weight", ratios, 0.2) == 0.2


def test_block_merge_weighs_each_weight_by_its_blocks_ratio():
    first, second = _patcher(1), _patcher(2)
    (merged,) = merging.ModelMergeBlocks().merge(first, second, input=0.25, middle=1.0, out=0.75)
    weights = _weights(merged)
    for key, ratio in (("diffusion_model.input.weight", 0.25), ("diffusion_model.out.weight", 0.75)):
        expected = first.model.state_dict()[key] * ratio + (1.0 - ratio) * second.model.state_dict()[key]
        assert torch.equal(weights[key], expected), key


def test_the_sd2_merger_is_the_sd1_merger():
    assert model_specific.NODE_CLASS_MAPPINGS["ModelMergeSD2"] is model_specific.ModelMergeSD1


@pytest.mark.parametrize(("family", "node", "block"), [("FluxSchnell", model_specific.ModelMergeFlux1, "double_blocks.0."),
                                                        ("SD3", model_specific.ModelMergeSD3_2B, "joint_blocks.1.")])
def test_a_flow_block_merger_takes_one_blocks_weights_from_the_second_model(family, node, block):
    """FLUX.1's fused q/k/v and SD3's blocks are found by ComfyUI's names through the family's key table."""
    import comfy.sd
    from comfy.families import export
    from tests import model_factory

    first, second = (comfy.sd.load_diffusion_model_state_dict(model_factory.tiny_flow_model_state_dict(family, seed),
                                                              {"dtype": torch.float32}) for seed in (0, 1))
    ratios = {name: (0.0 if name == block else 1.0) for name in node.INPUT_TYPES()["required"] if name[0] != "m"}
    (merged,) = node().merge(first, second, **ratios)
    merged.patch_model()
    try:
        result = {key: value.clone() for key, value in export.diffusion_model_state_dict(merged.model).items()}
    finally:
        merged.unpatch_model()
    firsts, seconds = (export.diffusion_model_state_dict(model.model) for model in (first, second))
    assert any(key.startswith(block) for key in result)
    for key, value in result.items():
        assert torch.equal(value, (seconds if key.startswith(block) else firsts)[key]), key
