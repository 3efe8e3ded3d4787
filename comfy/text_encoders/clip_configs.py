"""CLIP text-encoder configs and weights: from a state dict's shapes and key layout to a transformers model.

Three key layouts reach us:
- transformers / OpenAI (`text_model.embeddings.*`, `text_model.encoder.layers.N.*`, optional
  `text_projection.weight`), also flattened without `text_model.`: SD1 and SDXL CLIP-L, ComfyUI's clip files;
- open_clip (`token_embedding.weight`, `transformer.resblocks.N.attn.in_proj_weight`, `text_projection` as
  `[width, proj]`): SD2's OpenCLIP-H and SDXL's OpenCLIP-bigG;
- either one below a checkpoint prefix (where each family keeps it: `comfy.families`).

Everything is converted to the transformers layout of `CLIPTextModelWithProjection` (`text_model.*`,
`text_projection.weight`), checked key by key, and loaded in float32.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from transformers import CLIPTextConfig, CLIPTextModelWithProjection

from comfy import families
from comfy.families import text_encoders as text_encoder_layouts
from comfy.utils import cast_in_one_block

KINDS = ("clip_l", "clip_h", "clip_g")
"""clip_l: OpenAI CLIP ViT-L/14 (SD1, SDXL); clip_h: OpenCLIP ViT-H/14 (SD2); clip_g: OpenCLIP ViT-bigG/14 (SDXL)."""

# Hidden width of the real encoders, used to name a bare file's encoder.
KIND_BY_WIDTH = {768: "clip_l", 1024: "clip_h", 1280: "clip_g"}

# Keys that files carry but the model does not need.
IGNORED_KEYS = ("text_model.embeddings.position_ids", "logit_scale", "attn_mask")


class TextEncoderLoadError(ValueError):
    """A text-encoder state dict does not fit the model: names the file and the first offending keys."""


# --- configs ---------------------------------------------------------------------------------------------


def text_config(**values: object) -> CLIPTextConfig:
    """A `CLIPTextConfig` with the settings every SD text encoder shares (77 positions, 49408 ids), plus `values`."""
    settings: dict[str, object] = {
        "vocab_size": 49408, "max_position_embeddings": 77, "layer_norm_eps": 1e-5,
        "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 1,
    }
    settings.update(values)
    config = CLIPTextConfig(**settings)
    config._attn_implementation = "sdpa"
    return config


def attention_heads(hidden_size: int) -> int:
    """Heads of a CLIP text tower: width / 64 (12 for L, 16 for H, 20 for bigG).

    Widths below 64 only occur in test models, which use 2 heads (tests/model_factory.py's convention).
    """
    return hidden_size // 64 if hidden_size >= 64 else 2


def kind_config(kind: str, hidden_size: int, num_layers: int, intermediate_size: int,
                projection_dim: int | None = None, num_heads: int | None = None, **values: object) -> CLIPTextConfig:
    """Config for an encoder of `kind`: quick_gelu for CLIP-L, gelu for OpenCLIP H/bigG; heads per `attention_heads`."""
    if kind not in KINDS:
        raise ValueError(f"Unknown text encoder kind {kind!r}; expected one of {', '.join(KINDS)}.")
    return text_config(hidden_size=hidden_size, num_hidden_layers=num_layers, intermediate_size=intermediate_size,
                       num_attention_heads=num_heads or attention_heads(hidden_size),
                       projection_dim=projection_dim or hidden_size,
                       hidden_act="quick_gelu" if kind == "clip_l" else "gelu", **values)


def clip_l_config() -> CLIPTextConfig:
    """OpenAI CLIP ViT-L/14 text tower: width 768, 12 layers, 12 heads, MLP 3072, quick_gelu."""
    return kind_config("clip_l", 768, 12, 3072, 768)


def clip_h_config() -> CLIPTextConfig:
    """OpenCLIP ViT-H/14 text tower (SD2): width 1024, 24 layers, 16 heads, MLP 4096, gelu."""
    return kind_config("clip_h", 1024, 24, 4096, 1024)


def clip_g_config() -> CLIPTextConfig:
    """OpenCLIP ViT-bigG/14 text tower (SDXL): width 1280, 32 layers, 20 heads, MLP 5120, gelu, projection 1280."""
    return kind_config("clip_g", 1280, 32, 5120, 1280)


def text_config_from_state_dict(sd: Mapping[str, torch.Tensor], kind: str | None = None,
                                num_heads: int | None = None) -> CLIPTextConfig:
    """Read width, depth, MLP size, positions, vocabulary and projection from a transformers-layout state dict.

    `kind` ("clip_l"/"clip_h"/"clip_g") picks the activation; by default it follows from the width.
    """
    try:
        token_embedding = sd["text_model.embeddings.token_embedding.weight"]
        positions = sd["text_model.embeddings.position_embedding.weight"]
        fc1 = sd["text_model.encoder.layers.0.mlp.fc1.weight"]
    except KeyError as missing:
        raise TextEncoderLoadError(f"Not a CLIP text encoder state dict: key {missing} is missing.")
    vocab_size, hidden_size = token_embedding.shape
    layer_ids = {int(key.split(".")[3]) for key in sd if key.startswith("text_model.encoder.layers.")}
    projection = sd.get("text_projection.weight")
    kind = kind or detect_kind_from_width(hidden_size)
    return kind_config(kind, hidden_size, max(layer_ids) + 1, fc1.shape[0],
                       projection.shape[0] if projection is not None else hidden_size, num_heads,
                       vocab_size=vocab_size, max_position_embeddings=positions.shape[0])


def detect_kind_from_width(hidden_size: int) -> str:
    try:
        return KIND_BY_WIDTH[hidden_size]
    except KeyError:
        raise TextEncoderLoadError(
            f"Cannot tell which CLIP text encoder has width {hidden_size} (768 = clip_l, 1024 = clip_h, "
            "1280 = clip_g); pass kind= explicitly.")


def detect_text_encoder_kind(sd: Mapping[str, torch.Tensor]) -> str:
    """"clip_l", "clip_h" or "clip_g" for a bare text-encoder file, from its width (any supported layout)."""
    return detect_kind_from_width(to_transformers_layout(sd)["text_model.embeddings.token_embedding.weight"].shape[1])


# --- key layouts -----------------------------------------------------------------------------------------


def is_open_clip_layout(sd: Mapping[str, torch.Tensor]) -> bool:
    return text_encoder_layouts.is_open_clip(sd)


def to_transformers_layout(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Any supported bare layout → `text_model.*` + `text_projection.weight` keys (no checkpoint prefix); see
    `comfy.families.text_encoders` (OpenCLIP goes through diffusers' converter)."""
    return text_encoder_layouts.to_transformers(sd)


def checkpoint_text_encoders(sd: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """The CLIP text encoders inside a single-file checkpoint: `{"clip_l"|"clip_h"|"clip_g": transformers-layout
    sd}`, at the prefixes the model families declare (`comfy.families.text_encoder_locations`). The kind comes
    from the width for real models and from the prefix otherwise.
    """
    found: dict[str, dict[str, torch.Tensor]] = {}
    for prefix, prefix_kind, layout in families.text_encoder_locations():
        if layout in ("t5", "umt5"):  # not CLIP: the T5 family's encoders
            continue
        part = {key[len(prefix):]: value for key, value in sd.items() if key.startswith(prefix)}
        if not part:
            continue
        converted = to_transformers_layout(part)
        embedding = converted.get("text_model.embeddings.token_embedding.weight")
        kind = KIND_BY_WIDTH.get(embedding.shape[1], prefix_kind) if embedding is not None else prefix_kind
        if kind in found:
            raise TextEncoderLoadError(f"Checkpoint holds two {kind} text encoders (second under '{prefix}').")
        found[kind] = converted
    return found


# --- building and loading --------------------------------------------------------------------------------


def empty_text_model(config: CLIPTextConfig) -> CLIPTextModelWithProjection:
    """A `CLIPTextModelWithProjection` whose parameters live on the meta device, waiting for `assign_weights`."""
    with torch.device("meta"):
        model = CLIPTextModelWithProjection(config)
    # The position-id buffer is not in state dicts, so it must be real from the start.
    model.text_model.embeddings.position_ids = torch.arange(config.max_position_embeddings).expand((1, -1))
    return model.eval()


def complete_text_model_state_dict(sd: Mapping[str, torch.Tensor], source: str = "state dict") -> dict[str, torch.Tensor]:
    """Drop the keys models do not need and give a projection-less encoder (SD1 CLIP-L) an identity projection."""
    out = {key: value for key, value in sd.items() if key not in IGNORED_KEYS}
    if "text_projection.weight" not in out and "text_model.embeddings.token_embedding.weight" in out:
        width = out["text_model.embeddings.token_embedding.weight"].shape[1]
        out["text_projection.weight"] = torch.eye(width, dtype=torch.float32)
    return out


def assign_weights(model: CLIPTextModelWithProjection, sd: Mapping[str, torch.Tensor], source: str) -> None:
    """Load `sd` into `model` as float32 copies, after checking the keys and shapes match exactly.

    Raises `TextEncoderLoadError` naming `source` and the first missing, unexpected or mis-shaped keys.
    """
    expected = model.state_dict()
    missing = [key for key in expected if key not in sd]
    unexpected = [key for key in sd if key not in expected]
    wrong_shape = [f"{key} {tuple(sd[key].shape)} != {tuple(value.shape)}"
                   for key, value in expected.items() if key in sd and sd[key].shape != value.shape]
    if missing or unexpected or wrong_shape:
        problems = []
        if missing:
            problems.append(f"missing keys {missing[:5]}" + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""))
        if unexpected:
            problems.append(f"unexpected keys {unexpected[:5]}"
                            + (f" (+{len(unexpected) - 5} more)" if len(unexpected) > 5 else ""))
        if wrong_shape:
            problems.append(f"shape mismatches {wrong_shape[:5]}")
        raise TextEncoderLoadError(f"Text encoder weights in {source} do not fit a "
                                   f"{model.config.hidden_size}-wide, {model.config.num_hidden_layers}-layer CLIP: "
                                   + "; ".join(problems))
    weights = cast_in_one_block({key: sd[key].detach().cpu() for key in expected}, torch.float32, copy_all=True)
    model.load_state_dict(weights, strict=True, assign=True)
    for param in model.parameters():
        param.requires_grad_(False)


def build_text_model(sd: Mapping[str, torch.Tensor], kind: str | None = None, source: str = "state dict",
                     num_heads: int | None = None) -> CLIPTextModelWithProjection:
    """A float32 `CLIPTextModelWithProjection` holding `sd` (any bare layout), its config read from the shapes."""
    weights = complete_text_model_state_dict(to_transformers_layout(sd), source)
    model = empty_text_model(text_config_from_state_dict(weights, kind, num_heads))
    assign_weights(model, weights, source)
    return model
