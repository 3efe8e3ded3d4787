"""The key layouts text encoders come in, converted both ways with one table each.

- "hf_clip": transformers' CLIP text model (`text_model.embeddings.*`, `text_model.encoder.layers.N.*`, optional
  `text_projection.weight`), also flattened without `text_model.` (transformers 5) or under `transformer.`:
  OpenAI's CLIP-L everywhere, and the CLIP-G of ComfyUI's SD3 files.
- "open_clip": OpenCLIP's text tower (`token_embedding.weight`, `positional_embedding`,
  `transformer.resblocks.N.attn.in_proj_weight` with q/k/v stacked, `ln_final.*`, `text_projection` as
  [width, projection]): SD2's ViT-H and SDXL's bigG. Loading uses diffusers' `convert_open_clip_checkpoint`;
  the way back reads the same table, diffusers' `DIFFUSERS_TO_LDM_MAPPING["openclip"]`, in reverse.
- "comfy_clip": the "hf_clip" names as ComfyUI's own files keep them (SD3, FLUX.1): with the `text_projection`
  and without the position ids.
- "t5": transformers' `T5EncoderModel` names (`shared.weight`, `encoder.block.N.*`), the same in files and in
  the model.

Kiln's CLIP models are `CLIPTextModelWithProjection` (`text_model.*` + `text_projection.weight`). LoRA files name
text-encoder layers by these transformers names whatever the checkpoint layout (`comfy.lora`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import torch

LAYOUTS = ("hf_clip", "comfy_clip", "open_clip", "t5", "umt5")
TOKEN_EMBEDDING = "text_model.embeddings.token_embedding.weight"
POSITION_IDS = "text_model.embeddings.position_ids"
TEXT_PROJECTION = "text_projection.weight"
_OPEN_CLIP_LAYER = re.compile(r"^transformer\.resblocks\.(\d+)\.(.+)$")
_HF_LAYER = re.compile(r"^text_model\.encoder\.layers\.(\d+)\.(.+)$")


def is_open_clip(state_dict: Mapping[str, Any]) -> bool:
    """Whether a bare text-encoder state dict is in OpenCLIP's layout."""
    return "token_embedding.weight" in state_dict or any(key.startswith("transformer.resblocks.") for key in state_dict)


def _openclip_mapping() -> dict[str, dict[str, str]]:
    from comfy.families import import_network_libraries

    import_network_libraries()
    from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

    return DIFFUSERS_TO_LDM_MAPPING["openclip"]


# The per-layer part of diffusers' OpenCLIP table: (transformers name, OpenCLIP name) inside one block, in the
# order diffusers applies them. Its other entries rename whole keys, which `layers` already covers.
def _openclip_layer_renames() -> list[tuple[str, str]]:
    return [(new, old) for new, old in _openclip_mapping()["transformer"].items()
            if not new.startswith(("text_model.encoder.layers.", "transformer."))]


def open_clip_to_transformers(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Bare OpenCLIP text-tower keys -> `CLIPTextModelWithProjection` keys, by diffusers'
    `convert_open_clip_checkpoint` (q/k/v split from `in_proj`, `text_projection` transposed). Keys it does not
    know are kept as they are, so the loader's key check reports them."""
    known = set(_openclip_mapping()["layers"].values())  # (imports diffusers first, under the loaders' lock)
    from diffusers.loaders.single_file_utils import convert_open_clip_checkpoint

    projection = state_dict.get("text_projection")
    width = state_dict["token_embedding.weight"].shape[1] if "token_embedding.weight" in state_dict else (
        projection.shape[0] if projection is not None else 0)
    # The converter splits q/k/v at the projection's first size, or the model config's width without one.
    stand_in_model = SimpleNamespace(config=SimpleNamespace(hidden_size=width))
    converted = convert_open_clip_checkpoint(stand_in_model, dict(state_dict), prefix="")
    leftovers = {key: value for key, value in state_dict.items()
                 if key not in known and not key.startswith("transformer.")}
    return {**converted, **leftovers}


def transformers_to_open_clip(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`CLIPTextModelWithProjection` keys -> OpenCLIP keys (the inverse of `open_clip_to_transformers`, from the
    same diffusers table): q/k/v stacked into `in_proj_*`, `text_projection` transposed to [width, projection]."""
    whole = {new: old for new, old in _openclip_mapping()["layers"].items()}
    renames = _openclip_layer_renames()
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key in whole:
            out[whole[key]] = value.T.contiguous() if key == TEXT_PROJECTION else value
            continue
        layer = _HF_LAYER.match(key)
        if layer is None:
            if key in (POSITION_IDS, "logit_scale"):
                continue
            raise KeyError(f"no OpenCLIP name for text encoder key {key!r}")
        index, tail = layer.groups()
        block = f"transformer.resblocks.{index}."
        projection = re.match(r"self_attn\.(q|k|v)_proj\.(weight|bias)", tail)
        if projection:
            letter, parameter = projection.groups()
            if letter == "q":
                parts = [state_dict[f"text_model.encoder.layers.{index}.self_attn.{x}_proj.{parameter}"] for x in "qkv"]
                out[f"{block}attn.in_proj_{parameter}"] = torch.cat(parts, dim=0)
            continue
        name = "." + tail
        for new, old in reversed(renames):
            name = name.replace(new, old)
        out[block + name[1:]] = value
    return out


def hf_clip_to_transformers(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers CLIP keys in any of their spellings -> `text_model.*` (+ `text_projection.weight`)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key.startswith(("embeddings.", "encoder.", "final_layer_norm.")):
            key = "text_model." + key  # transformers >= 5 flattened CLIPTextModel
        elif key.startswith("transformer.text_model.") or key == "transformer." + TEXT_PROJECTION:
            key = key[len("transformer."):]
        out[key] = value
    return out


def to_transformers(state_dict: Mapping[str, torch.Tensor], layout: str | None = None) -> dict[str, torch.Tensor]:
    """A bare CLIP text-encoder state dict in `layout` ("hf_clip" / "comfy_clip" / "open_clip"; None: told from
    the keys) in transformers' `CLIPTextModelWithProjection` names."""
    if layout is None:
        layout = "open_clip" if is_open_clip(state_dict) else "hf_clip"
    if layout == "open_clip":
        return open_clip_to_transformers(state_dict)
    if layout in ("hf_clip", "comfy_clip"):
        return hf_clip_to_transformers(state_dict)
    raise ValueError(f"{layout!r} is not a CLIP layout; expected 'hf_clip', 'comfy_clip' or 'open_clip'")


def from_transformers(layout: str, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One text encoder's model state dict in a file `layout`, as checkpoints keep it.

    "hf_clip": the text projection (unused by SD1 / SDXL, absent from their checkpoints) is dropped and the
    int64 `[1, 77]` position ids real SD1/SDXL checkpoints carry are added; "comfy_clip": the projection kept, no
    position ids; "open_clip": see `transformers_to_open_clip`; "t5" / "umt5": unchanged but for the tied
    embedding's second name.
    """
    if layout in ("t5", "umt5"):  # the encoder's copy of the tied embedding is `shared.weight` again
        return {key: value for key, value in state_dict.items() if key != "encoder.embed_tokens.weight"}
    source = hf_clip_to_transformers(state_dict)
    if layout == "open_clip":
        return transformers_to_open_clip(source)
    if layout == "comfy_clip":
        return {key: value for key, value in source.items() if key not in (POSITION_IDS, "logit_scale")}
    if layout != "hf_clip":
        raise ValueError(f"unknown text encoder layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    out = {key: value for key, value in source.items() if key not in (TEXT_PROJECTION, "logit_scale")}
    positions = out["text_model.embeddings.position_embedding.weight"].shape[0]
    out[POSITION_IDS] = torch.arange(positions, dtype=torch.int64).reshape(1, positions)
    return out
