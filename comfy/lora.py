"""LoRA files as weight patches on a `ModelPatcher`, for every family (ComfyUI's `comfy.lora`).

A LoRA names each adapted layer in one of several conventions: the file's own (original) key names behind a
prefix (ComfyUI's `diffusion_model.double_blocks.0.img_attn.qkv`), kohya's with dots turned into underscores
(`lora_unet_double_blocks_0_img_attn_qkv`, `lora_te1_text_model_encoder_layers_0_mlp_fc1`), or diffusers' /
PEFT's module names (`transformer.transformer_blocks.0.attn.to_q`). The family description says which prefixes
name which part (`Family.diffusion_model_lora_prefixes`, `diffusers_lora_prefixes`, `TextEncoderPart.
lora_prefixes`); the part's key table (`comfy.families.key_tables`, the same table loading and CheckpointSave
use) says which rows of which of Kiln's parameters an original key is. A delta on a fused original weight (FLUX.1's
`qkv`) thus becomes deltas on the rows of diffusers' `to_q`, `to_k` and `to_v`.

Each adapted layer gives a low-rank patch `(up, down, alpha)`: the patcher adds `strength * up @ down * alpha /
rank` to the weight (ComfyUI's rule; rank = `down.shape[0]`, no alpha means alpha = rank).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from comfy.families.key_tables import KeyTable, Piece

# (up, down) suffix pairs of the LoRA formats Kiln reads, with the alpha suffix of each.
LORA_WEIGHT_SUFFIXES = (
    (".lora_up.weight", ".lora_down.weight"),  # kohya / A1111 / ComfyUI
    (".lora_B.weight", ".lora_A.weight"),  # PEFT / diffusers
    (".lora.up.weight", ".lora.down.weight"),  # diffusers' old attention processors
    (".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight"),
    (".up.weight", ".down.weight"),  # XLabs' FLUX.1 processors
)
ALPHA_SUFFIX = ".alpha"
LORA_SUFFIXES = tuple(suffix for pair in LORA_WEIGHT_SUFFIXES for suffix in pair) + (
    ALPHA_SUFFIX, ".lora_mid.weight", ".dora_scale")


@dataclass(frozen=True)
class Target:
    """Where one LoRA layer's delta goes: the pieces (rows of model parameters) its weight rows are, in order."""

    pieces: tuple[Piece, ...]


def _kohya(path: str) -> str:
    return path.replace(".", "_")


def layer_names(prefixes: Iterable[str], path: str) -> list[str]:
    """The names LoRA files give the layer at `path` (a dotted key without `.weight`) under each prefix: a kohya
    prefix (ending in "_") takes the path with dots turned into underscores, the others the dotted path."""
    return [prefix + (_kohya(path) if prefix.endswith("_") else path) for prefix in prefixes]


def add_targets(targets: dict[str, Target], table: KeyTable, prefixes: Iterable[str],
                parameter_prefix: str = "") -> None:
    """Name every `.weight` key of `table` under `prefixes` (first name wins), its pieces under
    `parameter_prefix`."""
    prefixes = tuple(prefixes)
    for key, original in table.items():
        if not key.endswith(".weight"):
            continue
        pieces = tuple(Piece(parameter_prefix + piece.parameter, piece.start, piece.stop) for piece in original.pieces)
        for name in layer_names(prefixes, key.removesuffix(".weight")):
            targets.setdefault(name, Target(pieces))


def module_table(module: torch.nn.Module) -> KeyTable:
    """Every Linear / Conv weight of `module` by its own name (diffusers' and transformers' names)."""
    from comfy.families.key_tables import OriginalKey

    table: KeyTable = {}
    for name, child in module.named_modules():
        weight = getattr(child, "weight", None)
        if isinstance(child, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)) and \
                isinstance(weight, torch.Tensor):
            table[f"{name}.weight"] = OriginalKey(tuple(weight.shape), (Piece(f"{name}.weight", 0, weight.shape[0]),))
    return table


def model_targets(model: Any) -> dict[str, Target]:
    """LoRA layer name -> target, for a loaded model (`ModelPatcher.model`, a Kiln `BaseModel`): the diffusion
    model's layers in the file's original names and in diffusers' names, under the family's LoRA prefixes."""
    from comfy import families

    family = families.get(model.family)
    network = model.diffusion_model
    targets: dict[str, Target] = {}
    add_targets(targets, families.key_table_of(family.architecture, network), family.diffusion_model_lora_prefixes,
                "diffusion_model.")
    add_targets(targets, module_table(network), family.diffusers_lora_prefixes, "diffusion_model.")
    for name, target in architecture_extra_names(family, network).items():
        targets.setdefault(name, target)
    return targets


def architecture_extra_names(family: Any, network: torch.nn.Module) -> dict[str, Target]:
    """LoRA names some trainers give a family's layers outside its prefixes (XLabs' FLUX.1 `processor` names),
    from the family module's `extra_lora_names`: each a row range of an original key."""
    from comfy import families

    extra = getattr(families.family_module(family), "extra_lora_names", None)
    if extra is None:
        return {}
    table = families.key_table_of(family.architecture, network)
    return {name: Target(rows_of(table[original], start, stop, "diffusion_model."))
            for name, (original, start, stop) in extra(table).items() if original in table}


def rows_of(original: Any, start: int, stop: int, parameter_prefix: str = "") -> tuple[Piece, ...]:
    """The pieces holding rows [start, stop) of an original key, in row order."""
    pieces = []
    row = 0
    for piece in original.pieces:
        count = piece.stop - piece.start
        first, last = max(start, row), min(stop, row + count)
        if first < last:
            offset = piece.start - row
            pieces.append(Piece(parameter_prefix + piece.parameter, first + offset, last + offset))
        row += count
    return tuple(pieces)


def clip_targets(clip: Any, family_name: str | None = None) -> dict[str, Target]:
    """LoRA layer name -> target, for a `CLIP`'s text encoders (the `cond_stage_model` the patcher holds),
    under the LoRA prefixes of the family its encoders belong to (the family of the model the LoRA is loaded
    with, else the one whose CLIP type matches)."""
    from comfy import families

    wrapper = clip.cond_stage_model
    encoders = {kind: getattr(wrapper, kind) for kind in ("clip_l", "clip_h", "clip_g", "t5xxl")
                if getattr(wrapper, kind, None) is not None}
    family = families.get(family_name) if family_name else families.family_of_clip(sorted(encoders))
    targets: dict[str, Target] = {}
    for kind, encoder in encoders.items():
        part = family.text_encoder(kind) if family is not None else None
        prefixes = part.lora_prefixes if part is not None else ()
        if not prefixes:
            continue
        table = module_table(encoder.transformer)
        parameter_prefix = families.state_dict_prefix(kind)
        add_targets(targets, table, prefixes, parameter_prefix)
        # transformers 5 flattens the CLIP text model; LoRAs name its layers with and without `text_model.`
        flattened = {key.removeprefix("text_model."): value for key, value in table.items()
                     if key.startswith("text_model.")}
        add_targets(targets, flattened, [p for p in prefixes if p.endswith(".")], parameter_prefix)
    return targets


# --- reading a LoRA file ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoraLayer:
    """One adapted layer of a LoRA file: `up` [out, rank, ...], `down` [rank, in, ...], `alpha` (None: rank)."""

    name: str
    up: torch.Tensor
    down: torch.Tensor
    alpha: float | None


def lora_layer_names(lora: Mapping[str, torch.Tensor]) -> set[str]:
    """The adapted layers named in a LoRA file (keys without their `.lora_up.weight`-style suffixes)."""
    names = set()
    for key in lora:
        for suffix in LORA_SUFFIXES:
            if key.endswith(suffix):
                names.add(key[: -len(suffix)])
                break
    return names


def lora_layers(lora: Mapping[str, torch.Tensor]) -> dict[str, LoraLayer]:
    """Every low-rank layer of a LoRA file by name, in any of the formats of `LORA_WEIGHT_SUFFIXES`."""
    layers: dict[str, LoraLayer] = {}
    for key in lora:
        for up_suffix, down_suffix in LORA_WEIGHT_SUFFIXES:
            if key.endswith(up_suffix):
                name = key[: -len(up_suffix)]
                down = lora.get(name + down_suffix)
                if down is not None:
                    alpha = lora.get(name + ALPHA_SUFFIX)
                    layers[name] = LoraLayer(name, lora[key], down, float(alpha) if alpha is not None else None)
                break
    return layers


def _row_size(shape: torch.Size) -> int:
    return int(torch.Size(shape[1:]).numel()) if len(shape) > 1 else 1


def _layer_patches(layer: LoraLayer, target: Target, shapes: Mapping[str, torch.Size]
                   ) -> list[tuple[str, tuple[torch.Tensor, torch.Tensor, float | None]]] | None:
    """The low-rank patch each target parameter gets from `layer`: its `up` rows placed at the rows they are in
    the parameter (zero elsewhere; the `down` matrix is shared). None when the shapes do not fit (a LoRA made
    for another model)."""
    if layer.up.shape[0] != sum(piece.stop - piece.start for piece in target.pieces):
        return None
    ups: dict[str, torch.Tensor] = {}
    row = 0
    for piece in target.pieces:
        shape = shapes.get(piece.parameter)
        if shape is None or layer.down[0].numel() != _row_size(shape):
            return None
        count = piece.stop - piece.start
        rows = layer.up[row:row + count]
        row += count
        up = ups.get(piece.parameter)
        if up is None:
            if piece.start == 0 and piece.stop == shape[0]:
                ups[piece.parameter] = rows
                continue
            # Part of the parameter's rows (a fused original weight split up, or a reordered one).
            up = ups[piece.parameter] = layer.up.new_zeros((shape[0], *layer.up.shape[1:]))
        up[piece.start:piece.stop] = rows
    return [(parameter, (up, layer.down, layer.alpha)) for parameter, up in ups.items()]


def load_lora(lora: Mapping[str, torch.Tensor], targets: Mapping[str, Target], shapes: Mapping[str, torch.Size]
              ) -> tuple[list[tuple[str, tuple[torch.Tensor, torch.Tensor, float | None]]], set[str]]:
    """`(parameter, (up, down, alpha))` patches for the layers of `lora` that `targets` knows and whose shapes
    fit, and the set of layer names used."""
    patches: list[tuple[str, tuple[torch.Tensor, torch.Tensor, float | None]]] = []
    used = set()
    for name, layer in lora_layers(lora).items():
        target = targets.get(name)
        if target is None:
            continue
        found = _layer_patches(layer, target, shapes)
        if found is None:
            continue
        patches.extend(found)
        used.add(name)
    return patches, used


def parameter_shapes(model: torch.nn.Module) -> dict[str, torch.Size]:
    return {name: parameter.shape for name, parameter in model.named_parameters()}


def check_lora_fits(lora_name: str, lora: Mapping[str, torch.Tensor], used: set[str]) -> None:
    """Refuse a LoRA most of whose layers do not exist in the model with the right shape (one made for another
    family); warn when only a few are missing."""
    names = lora_layer_names(lora)
    if not names:
        raise ValueError(f"{lora_name} is not a LoRA file: it has no lora_up/lora_down (or lora_A/lora_B) weights.")
    if len(used) * 2 < len(names):
        example = sorted(names - used)[0]
        raise ValueError(f"LoRA {lora_name} does not fit this model: only {len(used)} of its {len(names)} layers "
                         f"exist here with matching shapes (first missing: {example}). It was probably made for "
                         "another model family.")
    missing = sorted(names - used)
    if missing:
        logging.warning("LoRA %s: %d of %d layers not found in the model, e.g. %s", lora_name, len(missing),
                        len(names), missing[0])


# --- compatibility faces -----------------------------------------------------------------------------------------


def unet_key_map(unet: torch.nn.Module, parameter_prefix: str = "diffusion_model.") -> dict[str, str]:
    """kohya layer name -> parameter name for a diffusers UNet, under both names kohya uses: the diffusers
    module path (SD1/SD2 LoRAs) and the original LDM one (SDXL LoRAs)."""
    from comfy.families import unet as unet_architecture

    targets: dict[str, Target] = {}
    add_targets(targets, module_table(unet), ("lora_unet_",), parameter_prefix)
    add_targets(targets, unet_architecture.key_table(unet), ("lora_unet_",), parameter_prefix)
    return {name: target.pieces[0].parameter for name, target in targets.items() if len(target.pieces) == 1}

