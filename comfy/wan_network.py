"""ComfyUI's semantics on diffusers' `WanTransformer3DModel`, where the two differ.

diffusers' Wan and ComfyUI's agree block for block (the same RoPE split over frames, rows and columns, time
embedding and modulation), except in three places that matter for ComfyUI's conditioning, which
`install(network)` changes on a built network (no weights change):

- image-to-video cross-attention: diffusers splits the context into image and text tokens assuming 512 text
  tokens; ComfyUI splits at the number of CLIP-vision tokens it was given (257, 514 for first-last-frame), and with
  no CLIP-vision output both halves of the attention read the whole text context. `image_context(network, tokens)`
  says where the split is for the next forward call.
- the first-last-frame position embedding: diffusers reshapes two images' tokens into one sequence; ComfyUI adds
  the embedding to the first tokens of whatever sequence it is given (`img_emb.emb_pos`, 514 positions).
- per-frame timesteps (Wan 2.2 TI2V 5B with a denoise mask): diffusers takes one timestep per token; Kiln's wrapper
  expands ComfyUI's per-frame timesteps (`per_token_timesteps`).

`install` also gives the blocks ComfyUI's "dit" block replacements (`comfy.dit_blocks.install_video_blocks`).

And where the dtypes differ: ComfyUI embeds patches in float32 whatever the model's dtype
(`keep_patch_embedding_float32`, at load), and computes the time embedding in the hidden states' dtype, where
diffusers uses its first layer's storage dtype (fp8 with UNETLoader's fp8 weight dtype).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch
import torch.nn.functional as F  # noqa: N812 - torch's usual name


class ImageContextAttention:
    """The processor of an image-to-video block's cross-attention: text attention plus image attention
    (`add_k_proj` / `add_v_proj`), summed before the output projection. `image_tokens`: how many leading context
    tokens are the image's (None: no image, both attentions read the whole context, as in ComfyUI)."""

    def __init__(self) -> None:
        self.image_tokens: int | None = None

    @staticmethod
    def _heads(tensor: torch.Tensor, heads: int) -> torch.Tensor:
        return tensor.unflatten(2, (heads, -1)).transpose(1, 2)

    def __call__(self, attn: torch.nn.Module, hidden_states: torch.Tensor,
                 encoder_hidden_states: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                 rotary_emb: object = None) -> torch.Tensor:
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        if self.image_tokens is None:
            image, text = context, context
        else:
            image, text = context[:, :self.image_tokens], context[:, self.image_tokens:]
        heads = attn.heads
        query = self._heads(attn.norm_q(attn.to_q(hidden_states)), heads)
        key = self._heads(attn.norm_k(attn.to_k(text)), heads)
        value = self._heads(attn.to_v(text), heads)
        output = F.scaled_dot_product_attention(query, key, value)
        image_key = self._heads(attn.norm_added_k(attn.add_k_proj(image)), heads)
        image_value = self._heads(attn.add_v_proj(image), heads)
        output = output + F.scaled_dot_product_attention(query, image_key, image_value)
        output = output.transpose(1, 2).flatten(2).type_as(query)
        output = attn.to_out[0](output)
        return attn.to_out[1](output)


@functools.cache
def _position_image_embedding() -> type:
    """diffusers' `WanImageEmbedding` with ComfyUI's first-last-frame position embedding: added to the first
    `pos_embed` positions of the CLIP-vision tokens as given (a longer sequence is cut to them)."""
    from diffusers.models.transformers.transformer_wan import WanImageEmbedding

    class PositionImageEmbedding(WanImageEmbedding):
        def forward(self, encoder_hidden_states_image: torch.Tensor) -> torch.Tensor:
            tokens = encoder_hidden_states_image
            if self.pos_embed is not None:
                positions = self.pos_embed.shape[1]
                tokens = tokens[:, :positions] + self.pos_embed[:, :tokens.shape[1]].to(tokens)
            return self.norm2(self.ff(self.norm1(tokens)))

    return PositionImageEmbedding


class Float32PatchEmbedding(torch.nn.Conv3d):
    """Wan's patch embedding as ComfyUI runs it whatever the model's dtype: float32 weights and arithmetic, the
    result in the input's dtype. Its weights stay float32 when the others are stored narrower (`kiln_keep_dtype`,
    read by `comfy.manual_cast.store_weights_as`)."""

    kiln_keep_dtype = True

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002 - torch's name
        return super().forward(input.float()).to(input.dtype)


@functools.cache
def _time_text_image_embedding() -> type:
    """diffusers' `WanTimeTextImageEmbedding` with the time embedding computed in the hidden states' dtype, as
    ComfyUI computes it, rather than in its first layer's storage dtype (fp8 weights would make it fp8)."""
    from diffusers.models.transformers.transformer_wan import WanTimeTextImageEmbedding

    class TimeTextImageEmbedding(WanTimeTextImageEmbedding):
        def forward(self, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor,
                    encoder_hidden_states_image: torch.Tensor | None = None,
                    timestep_seq_len: int | None = None) -> tuple:
            sinusoids = self.timesteps_proj(timestep)
            if timestep_seq_len is not None:
                sinusoids = sinusoids.unflatten(0, (-1, timestep_seq_len))
            temb = self.time_embedder(sinusoids.to(encoder_hidden_states.dtype)).type_as(encoder_hidden_states)
            timestep_proj = self.time_proj(self.act_fn(temb))
            text = self.text_embedder(encoder_hidden_states)
            image = None if encoder_hidden_states_image is None else self.image_embedder(encoder_hidden_states_image)
            return temb, timestep_proj, text, image

    return TimeTextImageEmbedding


def keep_patch_embedding_float32(network: torch.nn.Module, weight: torch.Tensor, bias: torch.Tensor) -> None:
    """Make the network's patch embedding ComfyUI's float32 one (`Float32PatchEmbedding`), with the file's
    `weight` and `bias` in float32."""
    embedding = network.patch_embedding
    embedding.__class__ = Float32PatchEmbedding
    embedding.weight = torch.nn.Parameter(weight.detach().float(), requires_grad=False)
    embedding.bias = torch.nn.Parameter(bias.detach().float(), requires_grad=False)


def install(network: torch.nn.Module) -> None:
    """Give a built `WanTransformer3DModel` ComfyUI's "dit" block replacements (comfy.dit_blocks), and to an
    image-to-video one ComfyUI's image-context split and position embedding (see the module docstring)."""
    import comfy.dit_blocks

    comfy.dit_blocks.install_video_blocks(network.blocks)
    network.condition_embedder.__class__ = _time_text_image_embedding()
    embedder = network.condition_embedder.image_embedder
    if embedder is None:
        return
    embedder.__class__ = _position_image_embedding()
    processor = ImageContextAttention()
    for block in network.blocks:
        if block.attn2.add_k_proj is not None:
            block.attn2.set_processor(processor)
    network._kiln_image_context = processor


@contextlib.contextmanager
def image_context(network: torch.nn.Module, tokens: int | None) -> Iterator[None]:
    """Within the block, the network's image-to-video cross-attention takes the first `tokens` context tokens as
    the image's (None: there is no image)."""
    processor = getattr(network, "_kiln_image_context", None)
    if processor is None:
        yield
        return
    previous, processor.image_tokens = processor.image_tokens, tokens
    try:
        yield
    finally:
        processor.image_tokens = previous


def per_token_timesteps(timestep: torch.Tensor, frames: int, tokens_per_frame: int) -> torch.Tensor:
    """Timesteps [B] or per frame [B, F] as diffusers' per-token form [B, frames * tokens_per_frame] (frame-major,
    the order of the patch tokens). One timestep per sample stays [B]. A per-frame list shorter than `frames`
    repeats its entries as ComfyUI's does (each over ceil(frames / F) frames)."""
    if timestep.ndim < 2:
        return timestep
    per_frame = timestep.shape[1]
    if per_frame == 1:
        return timestep[:, 0]
    repeats = frames // per_frame
    if repeats * per_frame != frames:
        repeats += 1
    frame_steps = torch.repeat_interleave(timestep, repeats, dim=1)[:, :frames]
    return torch.repeat_interleave(frame_steps, tokens_per_frame, dim=1)
