"""FLUX.1 text encoding: T5-XXL gives the token conditioning, CLIP-L only its pooled vector.

`FluxTokenizer.tokenize_with_weights(text)` → `{"l": chunks, "t5xxl": [sequence of >= 256]}`;
`FluxClipModel.encode_token_weights(tokens)` → `(T5 cond [1, >=256, 4096], CLIP-L pooled [1, 768])`.
CLIP-L runs as in SD1 (last layer, pads with the end token) and its pooled output is not projected: ComfyUI
ignores CLIP-L's `text_projection` for Flux. Prompt weights act on the T5 tokens; the pooled vector ignores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import CLIPTextConfig, T5Config

from comfy import sd1_clip
from comfy.text_encoders import t5
from comfy.text_encoders.t5_tokenization import T5XXLTokenizer


class FluxTokenizer:
    """`tokenize_with_weights(text)` → `{"l": CLIP-L chunks, "t5xxl": [T5 sequence padded to 256]}`."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        self.clip_l = sd1_clip.SDTokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data)
        self.t5xxl = T5XXLTokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data)

    def tokenize_with_weights(self, text: str, return_word_ids: bool = False, **kwargs: Any) -> dict[str, list]:
        return {"l": self.clip_l.tokenize_with_weights(text, return_word_ids, **kwargs),
                "t5xxl": self.t5xxl.tokenize_with_weights(text, return_word_ids, **kwargs)}

    def untokenize(self, token_weight_pair: list[tuple]) -> list:
        return self.clip_l.untokenize(token_weight_pair)

    def state_dict(self) -> dict:
        return {}


class FluxClipModel(torch.nn.Module):
    """CLIP-L (`clip_l`) and T5-XXL (`t5xxl`); `l_config` / `t5_config` give the sizes (read from the files)."""

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, l_config: CLIPTextConfig | dict | None = None,
                 t5_config: T5Config | None = None):
        super().__init__()
        self.clip_l = sd1_clip.SDClipModel(device=device, dtype=dtype, return_projected_pooled=False,
                                           model_options=model_options, config=l_config)
        self.t5xxl = t5.T5XXLModel(config=t5_config, device=device, dtype=dtype, model_options=model_options)
        self.dtypes = {torch.float32}

    def set_clip_options(self, options: dict[str, Any]) -> None:
        self.clip_l.set_clip_options(options)
        self.t5xxl.set_clip_options(options)

    def reset_clip_options(self) -> None:
        self.clip_l.reset_clip_options()
        self.t5xxl.reset_clip_options()

    def encode_token_weights(self, token_weight_pairs: dict[str, list]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`{"l": chunks, "t5xxl": [sequence]}` → (T5 cond, CLIP-L pooled, unprojected)."""
        t5_out, _ = self.t5xxl.encode_token_weights(token_weight_pairs["t5xxl"])
        _, l_pooled = self.clip_l.encode_token_weights(token_weight_pairs["l"])
        return t5_out, l_pooled

    def load_sd(self, sd: dict[str, torch.Tensor], source: str = "text encoder state dict") -> Any:
        """Load one encoder's weights: T5 keys go to `t5xxl`, CLIP keys to `clip_l`."""
        if t5.is_t5_state_dict(sd):
            return self.t5xxl.load_sd(sd, source)
        return self.clip_l.load_sd(sd, source)
