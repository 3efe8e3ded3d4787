"""ComfyUI's "dit" block replacements on Kiln's SD3 and FLUX.1 transformers (comfy/dit_blocks.py), on the tiny
random flow models: a replacement that runs the original block changes nothing, one that answers its inputs skips
the block, FLUX.1's single-stream blocks see one joined sequence, and the replacement sees ComfyUI's arguments."""

from __future__ import annotations

import functools

import pytest
import torch

import comfy.model_patcher
import comfy.sd
from tests import model_factory


@functools.cache
def _tiny(family: str):
    state_dict = {key: value.float() for key, value in model_factory.tiny_flow_model_state_dict(family).items()}
    return comfy.sd.load_diffusion_model_state_dict(state_dict).model


@pytest.fixture(params=["SD3", "Flux"])
def model(request):
    return _tiny(request.param)


def _predict(model, options: dict | None = None) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn((1, 16, 8, 8), generator=generator)
    context_width = model.diffusion_model.config.joint_attention_dim
    conds = {"c_crossattn": torch.randn((1, 5, context_width), generator=generator),
             "y": torch.randn((1, model.diffusion_model.config.pooled_projection_dim), generator=generator)}
    transformer_options = {"patches_replace": {"dit": options}} if options else None
    with torch.inference_mode():
        return model.apply_model(x, torch.tensor([0.6]), transformer_options=transformer_options, **conds)


def _kinds(model) -> list[tuple[str, int]]:
    network = model.diffusion_model
    return ([("double_block", i) for i in range(len(network.transformer_blocks))]
            + [("single_block", i) for i in range(len(getattr(network, "single_transformer_blocks", None) or []))])


def test_a_replacement_running_the_original_block_changes_nothing(model):
    seen = []

    def through(args: dict, extra: dict) -> dict:
        seen.append(sorted(args))
        return extra["original_block"](args)

    plain = _predict(model)
    patched = _predict(model, {key: through for key in _kinds(model)})
    assert torch.equal(plain, patched)
    assert len(seen) == len(_kinds(model))
    assert {"img", "vec", "transformer_options"} <= set(seen[0])


def test_skipping_a_block_changes_the_prediction(model):
    plain = _predict(model)
    for key in _kinds(model):
        skipped = _predict(model, {key: lambda args, extra: args})
        assert not torch.allclose(plain, skipped), key


def test_flux_single_blocks_see_text_and_picture_as_one_sequence():
    model = _tiny("Flux")
    shapes = []

    def record(args: dict, extra: dict) -> dict:
        shapes.append((tuple(args["img"].shape), "txt" in args))
        return extra["original_block"](args)

    _predict(model, {("single_block", 0): record})
    assert shapes == [((1, 5 + 16, model.diffusion_model.inner_dim), False)]  # 5 text tokens + 4x4 patches


def test_set_model_patch_replace_on_the_patcher_reaches_the_blocks(model):
    patcher = comfy.model_patcher.ModelPatcher(model, torch.device("cpu"), torch.device("cpu"))
    calls = []
    patcher.set_model_patch_replace(lambda args, extra: calls.append(1) or args, "dit", "double_block", 0)
    options = patcher.model_options["transformer_options"]["patches_replace"]["dit"]
    assert not torch.equal(_predict(model), _predict(model, options)) and calls == [1]


@pytest.mark.parametrize(("family", "aliased"), [("Flux", {"double_block": {"txt"}, "single_block": {"img"}}),
                                                 ("SD3", {"double_block": set()})])
def test_the_original_block_updates_the_inputs_comfyuis_blocks_update_in_place(family, aliased):
    """ComfyUI's FLUX.1 blocks write their text stream (double) and joined sequence (single) into their input
    tensors; a replacement reading `args` after `original_block` sees the block's output there, on Kiln too."""
    model = _tiny(family)
    seen = {}

    def through(kind: str):
        def replace(args: dict, extra: dict) -> dict:
            given = dict(args)
            out = extra["original_block"](args)
            seen[kind] = {name for name in ("img", "txt") if name in out and out[name] is given.get(name)}
            return out
        return replace

    _predict(model, {key: through(key[0]) for key in _kinds(model) if key[1] == 0})
    assert seen == aliased
