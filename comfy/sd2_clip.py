"""SD2.x text encoding: OpenCLIP ViT-H/14, penultimate layer followed by the final layer norm, pads with 0.

Named `"h"`: `SD2Tokenizer.tokenize_with_weights(text)` → `{"h": chunks}`, `SD2ClipModel.encode_token_weights`
→ `(cond [1, 77*chunks, 1024], pooled [1, 1024])`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import CLIPTextConfig

from comfy import sd1_clip
from comfy.text_encoders import clip_configs

OPEN_CLIP_SPECIAL_TOKENS = {"start": 49406, "end": 49407, "pad": 0}


class SD2ClipHModel(sd1_clip.SDClipModel):
    """OpenCLIP-H as SD2 uses it: the penultimate hidden state, normed by the final layer norm."""

    def __init__(self, arch: str = "ViT-H-14", device: str | torch.device = "cpu", max_length: int = 77,
                 freeze: bool = True, layer: str = "penultimate", layer_idx: int | None = None,
                 dtype: torch.dtype | None = None, model_options: dict | None = None,
                 config: CLIPTextConfig | dict | None = None, **kwargs: Any):
        if layer == "penultimate":
            layer, layer_idx = "hidden", -2
        super().__init__(device=device, max_length=max_length, freeze=freeze, layer=layer, layer_idx=layer_idx,
                         dtype=dtype, special_tokens=OPEN_CLIP_SPECIAL_TOKENS, return_projected_pooled=True,
                         model_options=model_options,
                         config=config if config is not None else clip_configs.clip_h_config(), **kwargs)


class SD2ClipHTokenizer(sd1_clip.SDTokenizer):
    """CLIP BPE for OpenCLIP-H: pads with 0; embeddings of width 1024 (`clip_h` key)."""

    def __init__(self, tokenizer_path: str | None = None, embedding_directory: str | Sequence[str] | None = None,
                 tokenizer_data: dict | None = None, **kwargs: Any):
        super().__init__(tokenizer_path, pad_with_end=False, embedding_directory=embedding_directory,
                         embedding_size=1024, embedding_key="clip_h", tokenizer_data=tokenizer_data, **kwargs)


class SD2Tokenizer(sd1_clip.SD1Tokenizer):
    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        super().__init__(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data, clip_name="h",
                         tokenizer=SD2ClipHTokenizer)


class SD2ClipModel(sd1_clip.SD1ClipModel):
    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, **kwargs: Any):
        super().__init__(device=device, dtype=dtype, model_options=model_options, clip_name="h",
                         clip_model=SD2ClipHModel, **kwargs)
