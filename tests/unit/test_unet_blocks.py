"""comfy.unet_blocks: ComfyUI's block walk over a diffusers UNet gives diffusers' own output bit for bit when no
patch changes anything (SD1, SD2 and SDXL layouts, ControlNet and T2I-Adapter residuals, SDXL's added
conditioning, sizes that are not multiples of the upsampling factor), and calls the UNet-level patches at
ComfyUI's places with ComfyUI's arguments."""

from __future__ import annotations

import pytest
import torch

import comfy.cpu_speedups
import comfy.diffusers_attention
import comfy.unet_blocks
from comfy.model_patcher import ModelPatcher
from tests.model_factory import build_tiny_models


@pytest.fixture(scope="module", params=["SD15", "SD20", "SDXL"])
def tiny(request):
    """(family, a tiny UNet prepared as Kiln's BaseModel prepares it)."""
    unet = build_tiny_models(request.param, seed=3).unet
    comfy.cpu_speedups.speed_up_unet(unet)
    comfy.diffusers_attention.install(unet)
    return request.param, unet


def _inputs(unet, height: int = 8, width: int = 8, batch: int = 2) -> dict:
    generator = torch.Generator().manual_seed(5)
    config = unet.config
    kwargs = {
        "sample": torch.randn(batch, 4, height, width, generator=generator),
        "timestep": torch.tensor([999.0, 421.0][:batch]),
        "encoder_hidden_states": torch.randn(batch, 7, config.cross_attention_dim, generator=generator),
    }
    if config.addition_embed_type == "text_time":
        pooled = config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim
        kwargs["added_cond_kwargs"] = {"text_embeds": torch.randn(batch, pooled, generator=generator),
                                       "time_ids": torch.tensor([[64.0, 72.0, 0.0, 0.0, 64.0, 72.0]] * batch)}
    return kwargs


def _options(patches: dict | None = None) -> dict:
    """Fresh cross_attention_kwargs as Kiln's BaseModel makes them (the hooks write into them)."""
    options = {"original_shape": [2, 4, 8, 8], "transformer_index": 0, "sigmas": torch.tensor([14.6, 3.2]),
               "cond_or_uncond": [0, 1]}
    if patches:
        options["patches"] = patches
    return {"transformer_options": options}


def _skip_shapes(unet, inputs: dict) -> list[torch.Size]:
    shapes = []

    def record(h, transformer_options):
        shapes.append(h.shape)
        return h

    comfy.unet_blocks.forward(unet, **inputs, cross_attention_kwargs=_options({"input_block_patch": [record]}))
    return shapes


def _diffusers(unet, inputs: dict, **extra) -> torch.Tensor:
    with torch.no_grad():
        return unet(**inputs, cross_attention_kwargs=_options(), return_dict=False, **extra)[0]


def _walk(unet, inputs: dict, patches: dict | None = None, **extra) -> torch.Tensor:
    with torch.no_grad():
        return comfy.unet_blocks.forward(unet, **inputs, cross_attention_kwargs=_options(patches), **extra)


@pytest.mark.parametrize("size", [(8, 8), (7, 9)], ids=["8x8", "7x9"])
def test_without_patches_the_walk_is_bit_identical_to_diffusers(tiny, size):
    _, unet = tiny
    inputs = _inputs(unet, *size)
    assert torch.equal(_walk(unet, inputs), _diffusers(unet, inputs))


def test_identity_patches_keep_the_output_bit_identical(tiny):
    _, unet = tiny
    inputs = _inputs(unet)
    patches = {"input_block_patch": [lambda h, options: h], "input_block_patch_after_skip": [lambda h, options: h],
               "output_block_patch": [lambda h, hsp, options: (h, hsp)]}
    assert torch.equal(_walk(unet, inputs, patches), _diffusers(unet, inputs))


def test_controlnet_residuals_give_diffusers_numbers(tiny):
    _, unet = tiny
    inputs = _inputs(unet)
    generator = torch.Generator().manual_seed(9)
    skips = _skip_shapes(unet, inputs)
    down = tuple(torch.randn(shape, generator=generator) for shape in skips)
    middle = torch.randn(skips[-1], generator=generator)
    extra = {"down_block_additional_residuals": down, "mid_block_additional_residual": middle}
    expected = _diffusers(unet, inputs, **extra)
    assert not torch.equal(expected, _diffusers(unet, inputs))
    assert torch.equal(_walk(unet, inputs, **extra), expected)


def test_t2i_adapter_residuals_give_diffusers_numbers(tiny):
    family, unet = tiny
    inputs = _inputs(unet)
    generator = torch.Generator().manual_seed(11)
    # Each level's feature: where diffusers adds it (a level with transformers: its last resnet; otherwise the
    # level's output, after the downsampler); SDXL's layout takes one more feature after the middle block.
    level_shapes = {"SD15": [(2, 32, 8, 8), (2, 64, 4, 4)], "SD20": [(2, 32, 8, 8), (2, 32, 4, 4),
                                                                     (2, 32, 2, 2), (2, 32, 1, 1)],
                    "SDXL": [(2, 32, 4, 4), (2, 64, 4, 4), (2, 64, 4, 4)]}[family]
    features = [torch.randn(shape, generator=generator) for shape in level_shapes]
    expected = _diffusers(unet, inputs, down_intrablock_additional_residuals=list(features))
    assert not torch.equal(expected, _diffusers(unet, inputs))
    assert torch.equal(_walk(unet, inputs, down_intrablock_additional_residuals=list(features)), expected)


def test_patches_see_comfyuis_blocks_in_comfyuis_order(tiny):
    """SD1 tiny layout (2 levels, 1 resnet each): input blocks conv_in, resnet, downsampler, resnet; output blocks
    two resnets per level, the first level's upsampler joined to its last."""
    family, unet = tiny
    inputs = _inputs(unet)
    calls = []

    def input_patch(h, options):
        calls.append(("input_block_patch", options["block"], tuple(h.shape)))
        return h

    def after_skip(h, options):
        calls.append(("input_block_patch_after_skip", options["block"], tuple(h.shape)))
        return h

    def output_patch(h, hsp, options):
        calls.append(("output_block_patch", options["block"], tuple(h.shape), tuple(hsp.shape)))
        assert {"original_shape", "transformer_index", "sigmas", "cond_or_uncond", "patches"} <= set(options)
        return h, hsp

    _walk(unet, inputs, {"input_block_patch": [input_patch], "input_block_patch_after_skip": [after_skip],
                         "output_block_patch": [output_patch]})
    layers = unet.config.layers_per_block
    levels = len(unet.down_blocks)
    inputs_count = 1 + levels * layers + (levels - 1)
    input_calls = [call for call in calls if call[0] != "output_block_patch"]
    assert [call[1] for call in input_calls] == [("input", n) for n in range(inputs_count) for _ in range(2)]
    output_calls = [call for call in calls if call[0] == "output_block_patch"]
    assert [call[1] for call in output_calls] == [("output", n) for n in range(levels * (layers + 1))]
    if family == "SD15":
        assert [call[2] for call in input_calls[::2]] == [(2, 32, 8, 8), (2, 32, 8, 8), (2, 32, 4, 4),
                                                          (2, 64, 4, 4)]
        assert [call[2:] for call in output_calls] == [
            ((2, 64, 4, 4), (2, 64, 4, 4)), ((2, 64, 4, 4), (2, 32, 4, 4)),
            ((2, 64, 8, 8), (2, 32, 8, 8)), ((2, 32, 8, 8), (2, 32, 8, 8))]


def test_a_downscaling_patch_runs_at_half_size_and_comes_back(tiny):
    """Kohya Deep Shrink's shape: halve h after the first resnet (its skip kept at full size), bring h back to
    the skip's size where they differ; the upsamplers resize to the next skip's size, as ComfyUI's do."""
    _, unet = tiny
    inputs = _inputs(unet, 16, 16)
    sizes = []

    def shrink(h, options):
        if options["block"] == ("input", 1):
            h = torch.nn.functional.interpolate(h, scale_factor=0.5, mode="bilinear")
        return h

    def record(h, options):
        sizes.append(tuple(h.shape[-2:]))
        return h

    def restore(h, hsp, options):
        if h.shape[-2:] != hsp.shape[-2:]:
            h = torch.nn.functional.interpolate(h, size=hsp.shape[-2:], mode="bilinear")
        return h, hsp

    out = _walk(unet, inputs, {"input_block_patch": [record], "input_block_patch_after_skip": [shrink],
                               "output_block_patch": [restore]})
    assert out.shape == inputs["sample"].shape
    first_downsampler = 1 + unet.config.layers_per_block
    assert sizes[:2] == [(16, 16), (16, 16)]
    assert sizes[first_downsampler] == (4, 4)  # the level's downsampler ran on the shrunk 8x8
    assert not torch.equal(out, _diffusers(unet, inputs))


def test_model_patcher_setters_store_the_patches_where_the_walk_reads_them():
    patcher = ModelPatcher(torch.nn.Linear(1, 1), torch.device("cpu"), torch.device("cpu"))
    patches = [lambda h, options: h, lambda h, options: h, lambda h, hsp, options: (h, hsp)]
    patcher.set_model_input_block_patch(patches[0])
    patcher.set_model_input_block_patch_after_skip(patches[1])
    patcher.set_model_output_block_patch(patches[2])
    stored = patcher.model_options["transformer_options"]["patches"]
    assert (stored["input_block_patch"], stored["input_block_patch_after_skip"],
            stored["output_block_patch"]) == ([patches[0]], [patches[1]], [patches[2]])
    assert comfy.unet_blocks.has_block_patches(patcher.model_options["transformer_options"])
    assert not comfy.unet_blocks.has_block_patches({"patches": {"attn1_patch": [print]}})


def test_emb_patches_see_the_time_embedding_and_the_base_width(tiny):
    _, unet = tiny
    inputs = _inputs(unet)
    seen = []

    def emb_patch(emb, model_channels, options):
        seen.append((tuple(emb.shape), model_channels, options["block"] if "block" in options else None))
        return emb

    assert torch.equal(_walk(unet, inputs, {"emb_patch": [emb_patch]}), _diffusers(unet, inputs))
    assert seen == [((2, unet.config.block_out_channels[0] * 4), unet.config.block_out_channels[0], None)]
    shifted = _walk(unet, inputs, {"emb_patch": [lambda emb, channels, options: emb + 1]})
    assert not torch.equal(shifted, _diffusers(unet, inputs))
