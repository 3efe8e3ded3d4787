"""Chroma's text encoding (ComfyUI's `pixart_t5` rules, which its `Chroma` model uses, CLIPLoader type `chroma`).

One T5-XXL. Tokenization: T5's, without padding (ComfyUI's `min_length` 1, no maximum), so a prompt is its tokens
and the end token; T5TokenizerOptions' `t5xxl_min_padding` / `t5xxl_min_length` add pad tokens. No attention mask.
For weighted prompts the reference "empty" sequence is all pad tokens (no end token), as ComfyUI's PixArt T5.

`ChromaTokenizer.tokenize_with_weights(text)` → `{"t5xxl": [sequence]}`;
`ChromaClipModel.encode_token_weights(tokens)` → `(cond [1, n, 4096], None)`; its encoder is the attribute
`t5xxl` (state-dict names `t5xxl.transformer.*`, as ComfyUI's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from comfy import sd1_clip
from comfy.text_encoders import t5
from comfy.text_encoders.t5_tokenization import NO_MAX_LENGTH, T5XXLTokenizer

MIN_LENGTH = 1


class ChromaT5XXLTokenizer(T5XXLTokenizer):
    """T5 tokens without padding (at least one token: the end token)."""

    def __init__(self, tokenizer_path: str | None = None, embedding_directory: str | Sequence[str] | None = None,
                 tokenizer_data: dict | None = None):
        super().__init__(tokenizer_path, embedding_directory=embedding_directory, tokenizer_data=tokenizer_data,
                         min_length=MIN_LENGTH, max_length=NO_MAX_LENGTH)


class ChromaTokenizer(sd1_clip.SD1Tokenizer):
    """Named wrapper: `tokenize_with_weights(text)` → `{"t5xxl": [[(id, weight), ...]]}`."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        super().__init__(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data, clip_name="t5xxl",
                         tokenizer=ChromaT5XXLTokenizer)


class ChromaT5XXLModel(t5.T5XXLModel):
    """T5-XXL whose empty-prompt reference sequence is pad tokens only."""

    def gen_empty_tokens(self, special_tokens: dict[str, int], length: int) -> list[int]:
        return sd1_clip.gen_empty_tokens({name: token for name, token in special_tokens.items() if name != "end"},
                                         length)


class ChromaClipModel(sd1_clip.SD1ClipModel):
    """Named wrapper around `ChromaT5XXLModel` (attribute `t5xxl`); `config=` (a T5Config) gives its sizes."""

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, **kwargs: Any):
        super().__init__(device=device, dtype=dtype, model_options=model_options, name="t5xxl",
                         clip_model=ChromaT5XXLModel, **kwargs)
