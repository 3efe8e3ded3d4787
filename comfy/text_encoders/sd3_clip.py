"""Stable Diffusion 3 text encoding: CLIP-L, OpenCLIP-bigG and T5-XXL, any of them optional.

`SD3Tokenizer.tokenize_with_weights(text)` → `{"g": chunks, "l": chunks, "t5xxl": [sequence of >= 77]}`;
`SD3ClipModel.encode_token_weights(tokens)` → `(cond, pooled)`, as ComfyUI builds them:
- CLIP-L and CLIP-G give their penultimate hidden states (no final norm), side by side on the feature axis
  ([1, 77, 768 + 1280]); a missing CLIP-L is 768 zeros on the left. The result is zero-padded to T5's width
  (4096) and the T5 tokens follow along the token axis: [1, 77 + 77, 4096]. Without T5 the cond is the padded
  CLIP part alone; without any encoder (or tokens) it is zeros [1, 77, 4096].
- pooled = CLIP-L pooled (unprojected) ⊕ CLIP-G pooled (projected): [1, 768 + 1280]; a missing one is zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import CLIPTextConfig, T5Config

from comfy import model_management, sd1_clip, sdxl_clip
from comfy.text_encoders import clip_configs, t5
from comfy.text_encoders.t5_tokenization import T5XXLTokenizer

T5_MIN_LENGTH = 77
# ComfyUI's fixed widths, used for an encoder that is absent.
CLIP_L_WIDTH = 768
CLIP_G_WIDTH = 1280
CONTEXT_WIDTH = 4096
EMPTY_TOKENS = 77


class SD3Tokenizer:
    """`tokenize_with_weights(text)` → `{"g": ..., "l": ..., "t5xxl": ...}`; T5 pads to 77, CLIP-G pads with 0."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        self.clip_l = sd1_clip.SDTokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data)
        self.clip_g = sdxl_clip.SDXLClipGTokenizer(embedding_directory=embedding_directory,
                                                   tokenizer_data=tokenizer_data)
        self.t5xxl = T5XXLTokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data,
                                    min_length=T5_MIN_LENGTH)

    def tokenize_with_weights(self, text: str, return_word_ids: bool = False, **kwargs: Any) -> dict[str, list]:
        return {"g": self.clip_g.tokenize_with_weights(text, return_word_ids, **kwargs),
                "l": self.clip_l.tokenize_with_weights(text, return_word_ids, **kwargs),
                "t5xxl": self.t5xxl.tokenize_with_weights(text, return_word_ids, **kwargs)}

    def untokenize(self, token_weight_pair: list[tuple]) -> list:
        return self.clip_g.untokenize(token_weight_pair)

    def state_dict(self) -> dict:
        return {}


class SD3ClipModel(torch.nn.Module):
    """SD3's encoders; each of `clip_l`, `clip_g`, `t5xxl` is present when its config is given, else None.

    `context_width` is the width the CLIP features are padded to: T5's width when a T5 is present, else 4096
    for the real CLIP widths (768 / 1280) and their sum for reduced test encoders; pass it to override.
    """

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, l_config: CLIPTextConfig | dict | None = None,
                 g_config: CLIPTextConfig | dict | None = None, t5_config: T5Config | None = None,
                 context_width: int | None = None):
        super().__init__()
        self.clip_l = None if l_config is None else sd1_clip.SDClipModel(
            layer="hidden", layer_idx=-2, device=device, dtype=dtype, layer_norm_hidden_state=False,
            return_projected_pooled=False, model_options=model_options, config=l_config)
        self.clip_g = None if g_config is None else sdxl_clip.SDXLClipG(
            device=device, dtype=dtype, model_options=model_options, config=g_config)
        self.t5xxl = None if t5_config is None else t5.T5XXLModel(
            config=t5_config, device=device, dtype=dtype, model_options=model_options)
        if self.clip_l is None and self.clip_g is None and self.t5xxl is None:
            raise ValueError("SD3ClipModel needs at least one of CLIP-L, CLIP-G and T5-XXL.")
        self.l_width = CLIP_L_WIDTH if self.clip_l is None else self.clip_l.transformer.config.hidden_size
        self.g_width = CLIP_G_WIDTH if self.clip_g is None else self.clip_g.transformer.config.hidden_size
        self.g_pooled_width = (CLIP_G_WIDTH if self.clip_g is None
                               else self.clip_g.transformer.config.projection_dim)
        self.context_width = context_width or self._default_context_width()
        self.dtypes = {torch.float32}

    def _default_context_width(self) -> int:
        if self.t5xxl is not None:
            return self.t5xxl.transformer.config.d_model
        if self.l_width == CLIP_L_WIDTH and self.g_width == CLIP_G_WIDTH:
            return CONTEXT_WIDTH
        return self.l_width + self.g_width

    def encoders(self) -> list[torch.nn.Module]:
        return [encoder for encoder in (self.clip_l, self.clip_g, self.t5xxl) if encoder is not None]

    def set_clip_options(self, options: dict[str, Any]) -> None:
        for encoder in self.encoders():
            encoder.set_clip_options(options)

    def reset_clip_options(self) -> None:
        for encoder in self.encoders():
            encoder.reset_clip_options()

    def encode_token_weights(self, token_weight_pairs: dict[str, list]) -> tuple[torch.Tensor, torch.Tensor]:
        """`{"l": chunks, "g": chunks, "t5xxl": [sequence]}` → (cond `[1, n, context]`, pooled `[1, l + g]`).

        An empty token list for both CLIPs skips them (cond from T5 alone); see the module docstring.
        """
        device = model_management.intermediate_device()
        clip_out = None
        pooled = None
        if token_weight_pairs.get("l") or token_weight_pairs.get("g"):
            if self.clip_l is not None:
                clip_out, l_pooled = self.clip_l.encode_token_weights(token_weight_pairs["l"])
            else:
                l_pooled = torch.zeros((1, self.l_width), device=device)
            if self.clip_g is not None:
                g_out, g_pooled = self.clip_g.encode_token_weights(token_weight_pairs["g"])
                if clip_out is not None:
                    cut_to = min(clip_out.shape[1], g_out.shape[1])
                    clip_out = torch.cat([clip_out[:, :cut_to], g_out[:, :cut_to]], dim=-1)
                else:
                    clip_out = torch.nn.functional.pad(g_out, (self.l_width, 0))
            else:
                g_pooled = torch.zeros((1, self.g_pooled_width), device=device)
            if clip_out is not None:
                clip_out = torch.nn.functional.pad(clip_out, (0, self.context_width - clip_out.shape[-1]))
            pooled = torch.cat([l_pooled, g_pooled], dim=-1)

        out = clip_out
        if self.t5xxl is not None:
            t5_out, _ = self.t5xxl.encode_token_weights(token_weight_pairs["t5xxl"])
            out = t5_out if clip_out is None else torch.cat([clip_out, t5_out], dim=-2)
        if out is None:
            out = torch.zeros((1, EMPTY_TOKENS, self.context_width), device=device)
        if pooled is None:
            pooled = torch.zeros((1, self.l_width + self.g_pooled_width), device=device)
        return out, pooled

    def load_sd(self, sd: dict[str, torch.Tensor], source: str = "text encoder state dict") -> Any:
        """Load one encoder's weights: T5 keys go to `t5xxl`; CLIP weights to `clip_g` when as wide as it, else
        to `clip_l`."""
        if t5.is_t5_state_dict(sd):
            target = self.t5xxl
        else:
            weights = clip_configs.to_transformers_layout(sd)
            width = weights["text_model.embeddings.token_embedding.weight"].shape[1]
            target = self.clip_g if self.clip_g is not None and width == self.g_width else self.clip_l
            sd = weights
        if target is None:
            raise ValueError(f"{source}: this SD3 text encoder has no slot for these weights.")
        return target.load_sd(sd, source)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = 'Kiln has no `sd3_clip` text encoder'

T5XXLModel = unsupported_class(__name__, 'T5XXLModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=', _REASON)
sd3_clip = unsupported_function(__name__, 'sd3_clip', 'clip_l=, clip_g=, t5=, dtype_t5=, t5xxl_scaled_fp8=, t5_attention_mask=', _REASON)
t5_xxl_detect = unsupported_function(__name__, 't5_xxl_detect', 'state_dict, prefix=', _REASON)
