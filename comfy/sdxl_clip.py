"""SDXL text encoding: CLIP-L and OpenCLIP-bigG side by side (base), or bigG alone (refiner).

- CLIP-L (`"l"`): penultimate hidden state, no final layer norm, pads with the end token.
- OpenCLIP-bigG (`"g"`): penultimate hidden state, no final layer norm, pads with 0, pooled output projected.
- `SDXLClipModel.encode_token_weights` → `(cat([l, g], dim=-1) [1, 77*chunks, 2048], g pooled [1, 1280])`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import CLIPTextConfig

from comfy import sd1_clip
from comfy.text_encoders import clip_configs

OPEN_CLIP_SPECIAL_TOKENS = {"start": 49406, "end": 49407, "pad": 0}


class SDXLClipG(sd1_clip.SDClipModel):
    """OpenCLIP ViT-bigG/14 text encoder as SDXL uses it (penultimate layer, un-normed, projected pooled)."""

    def __init__(self, device: str | torch.device = "cpu", max_length: int = 77, freeze: bool = True,
                 layer: str = "penultimate", layer_idx: int | None = None, dtype: torch.dtype | None = None,
                 model_options: dict | None = None, config: CLIPTextConfig | dict | None = None, **kwargs: Any):
        if layer == "penultimate":
            layer, layer_idx = "hidden", -2
        super().__init__(device=device, max_length=max_length, freeze=freeze, layer=layer, layer_idx=layer_idx,
                         dtype=dtype, special_tokens=OPEN_CLIP_SPECIAL_TOKENS, layer_norm_hidden_state=False,
                         return_projected_pooled=True, model_options=model_options,
                         config=config if config is not None else clip_configs.clip_g_config(), **kwargs)


class SDXLClipGTokenizer(sd1_clip.SDTokenizer):
    """CLIP BPE for bigG: pads with 0; embeddings of width 1280 (`clip_g` key)."""

    def __init__(self, tokenizer_path: str | None = None, embedding_directory: str | Sequence[str] | None = None,
                 tokenizer_data: dict | None = None, **kwargs: Any):
        super().__init__(tokenizer_path, pad_with_end=False, embedding_directory=embedding_directory,
                         embedding_size=1280, embedding_key="clip_g", tokenizer_data=tokenizer_data, **kwargs)


class SDXLTokenizer:
    """`tokenize_with_weights(text)` → `{"g": chunks, "l": chunks}`."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        self.clip_l = sd1_clip.SDTokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data)
        self.clip_g = SDXLClipGTokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data)

    def tokenize_with_weights(self, text: str, return_word_ids: bool = False, **kwargs: Any) -> dict[str, list]:
        return {"g": self.clip_g.tokenize_with_weights(text, return_word_ids, **kwargs),
                "l": self.clip_l.tokenize_with_weights(text, return_word_ids, **kwargs)}

    def untokenize(self, token_weight_pair: list[tuple]) -> list:
        return self.clip_g.untokenize(token_weight_pair)

    def state_dict(self) -> dict:
        return {}


class SDXLClipModel(torch.nn.Module):
    """SDXL base text encoders. `l_config`/`g_config` override the real sizes (tests build tiny ones)."""

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, l_config: CLIPTextConfig | dict | None = None,
                 g_config: CLIPTextConfig | dict | None = None):
        super().__init__()
        self.clip_l = sd1_clip.SDClipModel(layer="hidden", layer_idx=-2, device=device, dtype=dtype,
                                           layer_norm_hidden_state=False, model_options=model_options,
                                           config=l_config)
        self.clip_g = SDXLClipG(device=device, dtype=dtype, model_options=model_options, config=g_config)
        self.dtypes = {torch.float32}

    def set_clip_options(self, options: dict[str, Any]) -> None:
        self.clip_l.set_clip_options(options)
        self.clip_g.set_clip_options(options)

    def reset_clip_options(self) -> None:
        self.clip_g.reset_clip_options()
        self.clip_l.reset_clip_options()

    def clip_layer(self, layer_idx: int | None) -> None:
        self.set_clip_options({"layer": layer_idx})

    def reset_clip_layer(self) -> None:
        self.reset_clip_options()

    def encode_token_weights(self, token_weight_pairs: dict[str, list]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`{"g": chunks, "l": chunks}` → (l and g conds joined on the feature axis, g's pooled output)."""
        g_out, g_pooled = self.clip_g.encode_token_weights(token_weight_pairs["g"])
        l_out, _ = self.clip_l.encode_token_weights(token_weight_pairs["l"])
        cut_to = min(l_out.shape[1], g_out.shape[1])
        return torch.cat([l_out[:, :cut_to], g_out[:, :cut_to]], dim=-1), g_pooled

    def load_sd(self, sd: dict[str, torch.Tensor], source: str = "text encoder state dict") -> Any:
        """Load one encoder's weights; which one is told by its width (1280 → g, else l)."""
        weights = clip_configs.to_transformers_layout(sd)
        width = weights["text_model.embeddings.token_embedding.weight"].shape[1]
        target = self.clip_g if width == self.clip_g.transformer.config.hidden_size else self.clip_l
        return target.load_sd(weights, source)


class SDXLRefinerClipModel(sd1_clip.SD1ClipModel):
    """SDXL refiner: bigG alone, under the name `"g"`."""

    def __init__(self, device: str | torch.device = "cpu", dtype: torch.dtype | None = None,
                 model_options: dict | None = None, **kwargs: Any):
        super().__init__(device=device, dtype=dtype, model_options=model_options, clip_name="g",
                         clip_model=SDXLClipG, **kwargs)


class SDXLRefinerTokenizer(sd1_clip.SD1Tokenizer):
    """`{"g": chunks}` for the refiner."""

    def __init__(self, embedding_directory: str | Sequence[str] | None = None, tokenizer_data: dict | None = None):
        super().__init__(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data, clip_name="g",
                         tokenizer=SDXLClipGTokenizer)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = "Kiln has no Stable Cascade text encoders"

StableCascadeClipG = unsupported_class(__name__, 'StableCascadeClipG', 'device=, max_length=, freeze=, layer=, layer_idx=, dtype=, model_options=', _REASON)
StableCascadeClipGTokenizer = unsupported_class(__name__, 'StableCascadeClipGTokenizer', 'tokenizer_path=, embedding_directory=, tokenizer_data=', _REASON)
StableCascadeClipModel = unsupported_class(__name__, 'StableCascadeClipModel', 'device=, dtype=, model_options=', _REASON)
StableCascadeTokenizer = unsupported_class(__name__, 'StableCascadeTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
