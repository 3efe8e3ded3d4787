"""ComfyUI's `CLIP` object (re-exported as `comfy.sd.CLIP`) and the loaders that build it from weights.

A `CLIP` pairs a tokenizer with a text-encoder wrapper (`SD1ClipModel`, `SD2ClipModel`, `SDXLClipModel`,
`SDXLRefinerClipModel`): `tokenize(text)` → `{name: chunks}`, `encode_from_tokens(tokens, return_pooled)` →
cond `[1, 77*chunks, width]` (and pooled), `clip_layer(-2)` for CLIPSetLastLayer, `clone()` per graph branch.

Loaders:
- `clip_from_checkpoint(sd)` — the text encoders inside an SD1/SD2/SDXL/refiner single-file checkpoint;
- `clip_from_text_encoder_state_dicts([sd, ...], clip_type)` — CLIPLoader / DualCLIPLoader files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from comfy import model_management, sd1_clip, sd2_clip, sdxl_clip
from comfy.text_encoders import clip_configs


@dataclass
class ClipTarget:
    """What to build: a tokenizer class, a text-encoder wrapper class and the keyword arguments for the latter."""

    tokenizer: type
    clip: type
    params: dict[str, Any] = field(default_factory=dict)


def default_embedding_directories() -> list[str]:
    """The `embeddings` model folders (folder_paths), where `embedding:name` textual inversions are looked up."""
    import folder_paths

    try:
        return folder_paths.get_folder_paths("embeddings")
    except KeyError:
        return []


class CLIP:
    """A tokenizer plus a text encoder, as ComfyUI nodes receive it (the `CLIP` type)."""

    def __init__(self, target: ClipTarget | None = None, embedding_directory: str | Sequence[str] | None = None,
                 no_init: bool = False, tokenizer_data: dict | None = None, parameters: int = 0,
                 state_dict: Sequence[Mapping[str, torch.Tensor]] = (), model_options: dict | None = None):
        if no_init:
            return
        if target is None:
            raise ValueError("CLIP needs a ClipTarget (tokenizer and text-encoder classes) unless no_init=True.")
        self.cond_stage_model = target.clip(**target.params)
        self.tokenizer = target.tokenizer(embedding_directory=embedding_directory, tokenizer_data=tokenizer_data)
        for weights in state_dict:
            self.cond_stage_model.load_sd(weights)
        self.patcher = _make_patcher(self.cond_stage_model)
        self.layer_idx: int | None = None
        self.use_clip_schedule = False
        self.tokenizer_options: dict[str, Any] = {}

    def clone(self) -> CLIP:
        """A CLIP sharing the encoder and tokenizer, with its own layer setting and (cloned) patcher."""
        cloned = CLIP(no_init=True)
        cloned.cond_stage_model = self.cond_stage_model
        cloned.tokenizer = self.tokenizer
        cloned.patcher = self.patcher.clone() if self.patcher is not None else None
        cloned.layer_idx = self.layer_idx
        cloned.use_clip_schedule = self.use_clip_schedule
        cloned.tokenizer_options = dict(self.tokenizer_options)
        return cloned

    def add_patches(self, patches: dict[str, Any], strength_patch: float = 1.0, strength_model: float = 1.0) -> Any:
        return self.patcher.add_patches(patches, strength_patch, strength_model)

    def clip_layer(self, layer_idx: int | None) -> None:
        """Output layer for later encodes: -1 last, -2 penultimate, ... (CLIPSetLastLayer)."""
        self.layer_idx = layer_idx

    def set_tokenizer_option(self, option_name: str, value: Any) -> None:
        self.tokenizer_options[option_name] = value

    def tokenize(self, text: str, return_word_ids: bool = False, **kwargs: Any) -> dict[str, list]:
        """`{encoder name: [chunk, ...]}`, each chunk 77 `(token, weight)` pairs."""
        options = dict(self.tokenizer_options)
        options.update(kwargs.pop("tokenizer_options", {}))
        if options:
            kwargs["tokenizer_options"] = options
        return self.tokenizer.tokenize_with_weights(text, return_word_ids, **kwargs)

    def load_model(self) -> Any:
        if self.patcher is not None:
            model_management.load_model_gpu(self.patcher)
        return self.patcher

    def encode_from_tokens(self, tokens: dict[str, list], return_pooled: bool | str = False,
                           return_dict: bool = False) -> Any:
        """Encode tokens: cond `[1, 77*chunks, width]`; with `return_pooled` also pooled `[1, proj]`
        (`"unprojected"` skips the text projection); with `return_dict` `{"cond": ..., "pooled_output": ...}`."""
        model = self.cond_stage_model
        model.reset_clip_options()
        if self.layer_idx is not None:
            model.set_clip_options({"layer": self.layer_idx})
        if return_pooled == "unprojected":
            model.set_clip_options({"projected_pooled": False})
        self.load_model()
        cond, pooled = model.encode_token_weights(tokens)[:2]
        if return_dict:
            return {"cond": cond, "pooled_output": pooled}
        if return_pooled:
            return cond, pooled
        return cond

    def encode_from_tokens_scheduled(self, tokens: dict[str, list], unprojected_pooled: bool = False,
                                     add_dict: dict | None = None, show_pbar: bool = True) -> list[list]:
        """The CONDITIONING CLIPTextEncode returns: `[[cond, {"pooled_output": pooled, **add_dict}]]`."""
        output = self.encode_from_tokens(tokens, return_pooled="unprojected" if unprojected_pooled else True,
                                         return_dict=True)
        cond = output.pop("cond")
        output.update(add_dict or {})
        return [[cond, output]]

    def encode(self, text: str) -> torch.Tensor:
        return self.encode_from_tokens(self.tokenize(text))

    def load_sd(self, sd: Mapping[str, torch.Tensor], full_model: bool = False) -> Any:
        if full_model:  # keys as get_sd() gives them; the encoders may still be empty (meta), hence assign
            weights = {key: value.to(torch.float32) if value.is_floating_point() else value for key, value in sd.items()}
            return self.cond_stage_model.load_state_dict(weights, strict=False, assign=True)
        return self.cond_stage_model.load_sd(sd)

    def get_sd(self) -> dict[str, torch.Tensor]:
        return self.cond_stage_model.state_dict()

    def get_key_patches(self) -> dict[str, Any]:
        return self.patcher.get_key_patches() if self.patcher is not None else {}


def _make_patcher(model: torch.nn.Module) -> Any:
    try:
        from comfy.model_patcher import ModelPatcher
    except ImportError:
        return None
    return ModelPatcher(model, load_device=model_management.text_encoder_device(),
                        offload_device=model_management.text_encoder_offload_device())


# --- building from weights -------------------------------------------------------------------------------


def _config(weights: Mapping[str, torch.Tensor], kind: str) -> Any:
    return clip_configs.text_config_from_state_dict(clip_configs.complete_text_model_state_dict(weights), kind)


def clip_target_for(encoders: Mapping[str, Mapping[str, torch.Tensor]], source: str = "checkpoint") -> ClipTarget:
    """The tokenizer/encoder classes for a set of text encoders (`{"clip_l": sd, "clip_g": sd, ...}`,
    transformers layout), with configs read from the weights' shapes.

    clip_l → SD1; clip_h → SD2; clip_l + clip_g → SDXL; clip_g alone → SDXL refiner.
    """
    kinds = set(encoders)
    if kinds == {"clip_l"}:
        return ClipTarget(sd1_clip.SD1Tokenizer, sd1_clip.SD1ClipModel,
                          {"config": _config(encoders["clip_l"], "clip_l")})
    if kinds == {"clip_h"}:
        return ClipTarget(sd2_clip.SD2Tokenizer, sd2_clip.SD2ClipModel,
                          {"config": _config(encoders["clip_h"], "clip_h")})
    if kinds == {"clip_l", "clip_g"}:
        return ClipTarget(sdxl_clip.SDXLTokenizer, sdxl_clip.SDXLClipModel,
                          {"l_config": _config(encoders["clip_l"], "clip_l"),
                           "g_config": _config(encoders["clip_g"], "clip_g")})
    if kinds == {"clip_g"}:
        return ClipTarget(sdxl_clip.SDXLRefinerTokenizer, sdxl_clip.SDXLRefinerClipModel,
                          {"config": _config(encoders["clip_g"], "clip_g")})
    raise clip_configs.TextEncoderLoadError(
        f"{source}: no supported text-encoder combination in {sorted(kinds) or 'nothing'} "
        "(supported: clip_l, clip_h, clip_l + clip_g, clip_g).")


def _load_encoders(clip: CLIP, encoders: Mapping[str, Mapping[str, torch.Tensor]], source: str) -> None:
    for kind, weights in encoders.items():
        # Every wrapper names its encoders after their kind: clip_l, clip_h, clip_g.
        getattr(clip.cond_stage_model, kind).load_sd(weights, f"{source} ({kind})")


def load_text_encoder(state_dict: Mapping[str, torch.Tensor], kind: str | None = None,
                      source: str = "text encoder state dict") -> sd1_clip.SDClipModel:
    """One loaded encoder, configured as its family uses it, from a bare or prefixed state dict.

    kind "clip_l" → `SDClipModel` (SD1: last layer, pads with end); "clip_h" → `SD2ClipHModel` (penultimate,
    normed, pads with 0); "clip_g" → `SDXLClipG` (penultimate, un-normed, pads with 0, projected pooled).
    Without `kind`, it follows from the width (768 / 1024 / 1280) or the checkpoint prefix.
    """
    encoders = clip_configs.checkpoint_text_encoders(state_dict)
    if len(encoders) > 1:
        raise clip_configs.TextEncoderLoadError(f"{source} holds several text encoders {sorted(encoders)}; "
                                                "use clip_from_checkpoint.")
    if encoders:
        (found_kind, weights), = encoders.items()
    else:
        weights = clip_configs.to_transformers_layout(state_dict)
        embedding = weights.get("text_model.embeddings.token_embedding.weight")
        if embedding is None:
            raise clip_configs.TextEncoderLoadError(
                f"{source} is not a CLIP text encoder: no token embedding among keys {list(state_dict)[:5]}")
        found_kind = kind or clip_configs.detect_kind_from_width(embedding.shape[1])
    kind = kind or found_kind
    encoder_class = {"clip_l": sd1_clip.SDClipModel, "clip_h": sd2_clip.SD2ClipHModel,
                     "clip_g": sdxl_clip.SDXLClipG}[kind]
    encoder = encoder_class(config=_config(weights, kind))
    encoder.load_sd(weights, source)
    return encoder


def clip_from_text_encoders(encoders: Mapping[str, Mapping[str, torch.Tensor]], source: str = "checkpoint",
                            embedding_directory: str | Sequence[str] | None = None) -> CLIP:
    """A loaded `CLIP` from `{"clip_l"|"clip_h"|"clip_g": transformers-layout weights}`.

    `embedding_directory` None means folder_paths' `embeddings` folders (as ComfyUI's loader nodes pass them).
    """
    if embedding_directory is None:
        embedding_directory = default_embedding_directories()
    clip = CLIP(clip_target_for(encoders, source), embedding_directory=embedding_directory)
    _load_encoders(clip, encoders, source)
    return clip


def clip_from_checkpoint(sd: Mapping[str, torch.Tensor], source: str = "checkpoint",
                         embedding_directory: str | Sequence[str] | None = None) -> CLIP | None:
    """The `CLIP` of an SD1/SD2/SDXL/SDXL-refiner single-file checkpoint, or None if it holds no text encoder.

    Raises `TextEncoderLoadError` naming `source` and the offending keys when the weights do not fit.
    `embedding_directory` None means folder_paths' `embeddings` folders.
    """
    encoders = clip_configs.checkpoint_text_encoders(sd)
    if not encoders:
        return None
    return clip_from_text_encoders(encoders, source, embedding_directory)


def clip_from_text_encoder_state_dicts(state_dicts: Sequence[Mapping[str, torch.Tensor]],
                                       clip_type: str = "stable_diffusion", sources: Sequence[str] | None = None,
                                       embedding_directory: str | Sequence[str] | None = None,
                                       kinds: Sequence[str | None] | None = None) -> CLIP:
    """CLIPLoader / DualCLIPLoader: text-encoder files (any bare or prefixed layout) → a loaded `CLIP`.

    `clip_type` "stable_diffusion" (one file: clip_l → SD1, clip_h → SD2, clip_g → refiner) or "sdxl"
    (clip_l + clip_g). Other types (sd3, flux, ...) are not built here. Each file's kind comes from its width
    (768 / 1024 / 1280); `kinds` names it for other widths (test models), else transformers-layout files count
    as clip_l and open_clip files as clip_g for "sdxl", clip_h otherwise.
    """
    if clip_type not in ("stable_diffusion", "sdxl"):
        raise NotImplementedError(f"CLIP type {clip_type!r} is not supported by the CLIP loaders yet.")
    sources = list(sources or [f"text encoder file {index + 1}" for index in range(len(state_dicts))])
    kinds = list(kinds or [None] * len(state_dicts))
    encoders: dict[str, dict[str, torch.Tensor]] = {}
    for weights, source, kind in zip(state_dicts, sources, kinds, strict=True):
        found = clip_configs.checkpoint_text_encoders(weights)
        if not found:
            converted = clip_configs.to_transformers_layout(weights)
            embedding = converted.get("text_model.embeddings.token_embedding.weight")
            if embedding is None:
                raise clip_configs.TextEncoderLoadError(
                    f"{source} is not a CLIP text encoder: no token embedding among keys {list(weights)[:5]}")
            if kind is None:
                fallback = "clip_l" if not clip_configs.is_open_clip_layout(weights) else (
                    "clip_g" if clip_type == "sdxl" else "clip_h")
                kind = clip_configs.KIND_BY_WIDTH.get(embedding.shape[1], fallback)
            found = {kind: converted}
        for found_kind, converted in found.items():
            if found_kind in encoders:
                raise clip_configs.TextEncoderLoadError(f"Two {found_kind} text encoders given (second: {source}).")
            encoders[found_kind] = converted
    return clip_from_text_encoders(encoders, ", ".join(sources), embedding_directory)
