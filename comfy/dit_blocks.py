"""ComfyUI's DiT block replacements on Kiln's diffusers transformers (SD3's MMDiT, FLUX.1, Wan).

ComfyUI's MMDiT and FLUX.1 look up `transformer_options["patches_replace"]["dit"]` before each block: a function
registered under ("double_block", i) (SD3's joint blocks, FLUX.1's double-stream blocks) or ("single_block", i)
(FLUX.1's single-stream blocks) runs instead of block i. It is given the block's inputs as a dict (`img`, `txt`,
`vec`, `transformer_options`; FLUX.1 adds `pe` and `attn_mask`) and {"original_block": run}, where `run(args)`
runs the block itself on such a dict and answers {"img", "txt"}; the function's answer is the block's output.
FLUX.1's single-stream blocks see one sequence, text tokens first, as `img` (no `txt`). Skip Layer Guidance
registers a function that answers its inputs, which skips the block; packs use the same contract.

ComfyUI's FLUX.1 blocks also update some of their inputs in place: a double-stream block its text stream, a
single-stream block its joined sequence; so after `original_block(args)` those entries of `args` hold the block's
output, which a replacement that reads them afterwards sees. Kiln's `original_block` does the same (`in_place`).

`install(network, in_place)` puts that look-up on every block of a diffusers `SD3Transformer2DModel` or
`FluxTransformer2DModel`, in place (each block's class becomes a subclass with the same parameters), and
`install_video_blocks(blocks)` does the same for Wan's blocks, which ComfyUI registers as ("double_block", i) with
`img`, `txt`, `vec` and `pe`, and whose replacement answers {"img"}. `active(transformer_options)` (a context
manager the model wraps around the network call) says which patches the
blocks of the current call see. Without a replacement a block runs as diffusers' own. `pe` is diffusers' rotary
embedding (a cos/sin pair), not ComfyUI's tensor: a patch can hand it on to `original_block`, not read it.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

import torch

_CURRENT: contextvars.ContextVar[dict | None] = contextvars.ContextVar("kiln_dit_transformer_options", default=None)


@contextlib.contextmanager
def active(transformer_options: dict | None) -> Iterator[None]:
    """The blocks run inside this block see `transformer_options`' "dit" replacements."""
    token = _CURRENT.set(transformer_options)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _replacement(kind: str, index: int) -> tuple[Callable | None, dict]:
    options = _CURRENT.get() or {}
    return options.get("patches_replace", {}).get("dit", {}).get((kind, index)), options


def _block_inputs(kwargs: dict, options: dict, img: torch.Tensor, vec: torch.Tensor) -> dict[str, Any]:
    args = {"img": img, "vec": vec, "transformer_options": options}
    if "image_rotary_emb" in kwargs:  # FLUX.1
        args.update(pe=kwargs["image_rotary_emb"], attn_mask=None)
    return args


def _updated_in_place(args: dict, out: dict, names: tuple[str, ...]) -> dict:
    """`out`, with its `names` entries written into the tensors `args` holds and answered as those tensors."""
    for name in names:
        if out.get(name) is not None:
            args[name].copy_(out[name])
            out[name] = args[name]
    return out


@functools.cache
def _double_block_class(base: type) -> type:
    """`base` (a block taking and answering both streams) with ComfyUI's ("double_block", i) look-up."""

    class DoubleBlock(base):
        def forward(self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor, temb: torch.Tensor,
                    **kwargs: Any) -> tuple[torch.Tensor | None, torch.Tensor]:
            patch, options = _replacement("double_block", self.kiln_dit_index)
            if patch is None:
                return super().forward(hidden_states, encoder_hidden_states, temb, **kwargs)

            def original_block(args: dict) -> dict[str, torch.Tensor]:
                txt, img = base.forward(self, args["img"], args["txt"], args["vec"], **kwargs)
                return _updated_in_place(args, {"img": img, "txt": txt}, self.kiln_dit_in_place)

            args = {**_block_inputs(kwargs, options, hidden_states, temb), "txt": encoder_hidden_states}
            out = patch(args, {"original_block": original_block})
            return out["txt"], out["img"]

    DoubleBlock.__name__ = DoubleBlock.__qualname__ = f"Comfy{base.__name__}"
    return DoubleBlock


@functools.cache
def _single_block_class(base: type) -> type:
    """FLUX.1's single-stream `base` with ComfyUI's ("single_block", i) look-up on the joined sequence."""

    class SingleBlock(base):
        def forward(self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor, temb: torch.Tensor,
                    **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
            patch, options = _replacement("single_block", self.kiln_dit_index)
            if patch is None:
                return super().forward(hidden_states, encoder_hidden_states, temb, **kwargs)
            text_tokens = encoder_hidden_states.shape[1]

            def original_block(args: dict) -> dict[str, torch.Tensor]:
                joined = args["img"]
                txt, img = base.forward(self, joined[:, text_tokens:], joined[:, :text_tokens], args["vec"], **kwargs)
                return _updated_in_place(args, {"img": torch.cat([txt, img], dim=1)}, self.kiln_dit_in_place)

            joined = torch.cat([encoder_hidden_states, hidden_states], dim=1)
            out = patch(_block_inputs(kwargs, options, joined, temb), {"original_block": original_block})
            return out["img"][:, :text_tokens], out["img"][:, text_tokens:]

    SingleBlock.__name__ = SingleBlock.__qualname__ = f"Comfy{base.__name__}"
    return SingleBlock


@functools.cache
def _video_block_class(base: type) -> type:
    """Wan's `base` (video tokens attending to themselves and to the context; answers the video tokens) with
    ComfyUI's ("double_block", i) look-up: `img` the video tokens, `txt` the context, `vec` the timestep
    projection, `pe` the rotary embedding; the answer's `img` is the block's output."""

    class VideoBlock(base):
        def forward(self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor, temb: torch.Tensor,
                    rotary_emb: Any) -> torch.Tensor:
            patch, options = _replacement("double_block", self.kiln_dit_index)
            if patch is None:
                return super().forward(hidden_states, encoder_hidden_states, temb, rotary_emb)

            def original_block(args: dict) -> dict[str, torch.Tensor]:
                return {"img": base.forward(self, args["img"], args["txt"], args["vec"], args["pe"])}

            args = {"img": hidden_states, "txt": encoder_hidden_states, "vec": temb, "pe": rotary_emb,
                    "transformer_options": options}
            return patch(args, {"original_block": original_block})["img"]

    VideoBlock.__name__ = VideoBlock.__qualname__ = f"Comfy{base.__name__}"
    return VideoBlock


def install_video_blocks(blocks: Any) -> None:
    """Give each of Wan's `blocks` (a diffusers `WanTransformer3DModel`'s) the ("double_block", i) look-up, numbered
    as ComfyUI numbers them."""
    for index, block in enumerate(blocks):
        if getattr(block, "kiln_dit_index", None) is not None:  # installed already
            continue
        block.kiln_dit_index = index
        block.__class__ = _video_block_class(type(block))


def install(network: torch.nn.Module, in_place: dict[str, tuple[str, ...]] | None = None) -> None:
    """Give every block of `network` (`transformer_blocks`: double; `single_transformer_blocks`: single) the
    look-up, numbered as ComfyUI numbers them; `in_place` ({"double_block": ("txt",), ...}) names the inputs
    ComfyUI's blocks of that kind update in place."""
    for kind, attribute, make in (("double_block", "transformer_blocks", _double_block_class),
                                  ("single_block", "single_transformer_blocks", _single_block_class)):
        for index, block in enumerate(getattr(network, attribute, None) or ()):
            if getattr(block, "kiln_dit_index", None) is not None:  # installed already
                continue
            block.kiln_dit_index = index
            block.kiln_dit_in_place = (in_place or {}).get(kind, ())
            block.__class__ = make(type(block))
