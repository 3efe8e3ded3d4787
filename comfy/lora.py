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


# Whole deltas (LoraSave's "full_diff" files, and the norms and biases of its standard ones): weight, bias.
DIFF_SUFFIXES = (".diff", ".diff_b")


@dataclass(frozen=True)
class Target:
    """Where one LoRA layer's delta goes: the pieces (rows of model parameters) its weight rows are, in order.
    `parameter_shapes` (set in the key maps `model_lora_keys_unet` gives packs) lets `load_lora` place rows
    without the model."""

    pieces: tuple[Piece, ...]
    parameter_shapes: Mapping[str, torch.Size] | None = None


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


def original_key_targets(model: Any) -> dict[str, Target]:
    """ComfyUI's state-dict key of each diffusion-model weight (`diffusion_model.` + the file's original key, as
    ComfyUI's `ModelPatcher.model_state_dict()` names it) -> the rows of Kiln's parameters it is."""
    from comfy import families

    table = families.key_table_of(families.get(model.family).architecture, model.diffusion_model)
    return {"diffusion_model." + key: Target(tuple(Piece("diffusion_model." + piece.parameter, piece.start,
                                                         piece.stop) for piece in original.pieces))
            for key, original in table.items()}


def split_patch(delta: Any, target: Target, shapes: Mapping[str, torch.Size]) -> list[tuple[Any, Any]] | None:
    """A patch on one of ComfyUI's weights (a whole delta: a tensor, `(tensor,)` or `("diff", (tensor,))`; or a
    low-rank one: a `LoRAAdapter`, `(up, down, alpha)` or `("lora", ...)`) as patches on the rows of Kiln's
    parameters that weight is (`target`): [(parameter or (parameter, (0, start, size)), patch)]. None for other
    kinds of patch (another model's weights, LoHa, ...) or shapes that do not fit."""
    low_rank = _low_rank(delta)
    if low_rank is not None:
        up, down, alpha = low_rank
        return _layer_patches(LoraLayer("", up, down, alpha), target, shapes)
    whole = _whole_delta(delta)
    if whole is None:
        return None
    return _diff_patches(whole, target, shapes)


def _low_rank(delta: Any) -> tuple[torch.Tensor, torch.Tensor, float | None] | None:
    from comfy.weight_adapter.lora import LoRAAdapter

    if isinstance(delta, LoRAAdapter):
        return delta.low_rank()
    if isinstance(delta, tuple) and len(delta) == 2 and delta[0] == "lora" and \
            all(value is None for value in delta[1][3:]):
        return tuple(delta[1][:3])
    if isinstance(delta, tuple) and len(delta) == 3 and all(isinstance(part, torch.Tensor) for part in delta[:2]):
        return delta
    return None


def _whole_delta(delta: Any) -> torch.Tensor | None:
    if isinstance(delta, torch.Tensor):
        return delta
    if isinstance(delta, tuple) and len(delta) == 1:
        return _whole_delta(delta[0])
    if isinstance(delta, tuple) and len(delta) == 2 and delta[0] == "diff":
        return _whole_delta(delta[1][0])
    return None


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
    return text_encoder_targets(clip.cond_stage_model, family_name)


def text_encoder_targets(wrapper: Any, family_name: str | None = None) -> dict[str, Target]:
    """`clip_targets` for a CLIP's `cond_stage_model` (the text encoders' holder)."""
    from comfy import families

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
    # ComfyUI's own generic names (LoraSave writes them): `text_encoders.` + every weight's state-dict name
    for key, parameter in wrapper.named_parameters():
        if key.endswith(".weight") and parameter.ndim > 0:
            targets.setdefault("text_encoders." + key.removesuffix(".weight"),
                               Target((Piece(key, 0, parameter.shape[0]),)))
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
    """The adapted layers named in a LoRA file (keys without their `.lora_up.weight`-style or `.diff` suffixes)."""
    names = set()
    for key in lora:
        for suffix in LORA_SUFFIXES + DIFF_SUFFIXES:
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


def _diff_patches(delta: torch.Tensor, target: Target, shapes: Mapping[str, torch.Size], bias: bool = False
                  ) -> list[tuple[Any, tuple]] | None:
    """The whole-delta patches (ComfyUI's `("diff", (tensor,))`) that place `delta`'s rows at the target's pieces
    (of the weights, or with `bias` of their biases); a piece that is part of a parameter patches that slice.
    None when the shapes do not fit."""
    if delta.shape[0] != sum(piece.stop - piece.start for piece in target.pieces):
        return None
    patches: list[tuple[Any, tuple]] = []
    row = 0
    for piece in target.pieces:
        parameter = piece.parameter.removesuffix(".weight") + ".bias" if bias else piece.parameter
        shape = shapes.get(parameter)
        count = piece.stop - piece.start
        if shape is None or delta[0].numel() != _row_size(shape):
            return None
        rows = delta[row:row + count].reshape(count, *shape[1:])
        row += count
        whole = piece.start == 0 and piece.stop == shape[0]
        patches.append((parameter if whole else (parameter, (0, piece.start, count)), ("diff", (rows,))))
    return patches


def lora_patches(lora: Mapping[str, torch.Tensor], targets: Mapping[str, Target], shapes: Mapping[str, torch.Size]
                 ) -> tuple[list[tuple[Any, tuple]], set[str]]:
    """`(parameter, (up, down, alpha))` patches for the low-rank layers of `lora` that `targets` knows and whose
    shapes fit, then `(parameter, ("diff", (delta,)))` ones for its whole deltas (`.diff`, `.diff_b`), and the
    set of layer names used."""
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
    for key, delta in lora.items():
        suffix = next((suffix for suffix in DIFF_SUFFIXES if key.endswith(suffix)), None)
        target = targets.get(key[:-len(suffix)]) if suffix else None
        if target is None:
            continue
        found = _diff_patches(delta, target, shapes, bias=suffix == ".diff_b")
        if found is not None:
            patches.extend(found)
            used.add(key[:-len(suffix)])
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



# --- patch arithmetic (one place for the ModelPatcher, and for packs through calculate_weight) ---------------


def weight_delta(delta: Any, strength: float, shape: torch.Size | tuple[int, ...]) -> torch.Tensor:
    """`strength` times a patch's change to a weight of `shape`, in float32, as ComfyUI computes it: a full delta
    (a tensor, or ComfyUI's `("diff", (tensor,))`, or another model's `[(weight, convert), *patches]`), or a
    low-rank `(up, down, alpha)` triple (a `comfy.weight_adapter.LoRAAdapter` too, and the older
    `("lora", (up, down, alpha, None, None, None))`, which ComfyUI 0.3.64 ignores with a warning) giving `(strength * alpha / rank) * (up @ down)`, where
    no alpha means alpha = rank."""
    if isinstance(delta, torch.Tensor):
        return strength * delta.float().reshape(shape)
    low_rank = getattr(delta, "low_rank", None)  # a comfy.weight_adapter.LoRAAdapter
    if low_rank is not None:
        return weight_delta(low_rank(), strength, shape)
    if isinstance(delta, list):  # another model's weight and its patches (`ModelPatcher.get_key_patches`)
        (weight, convert), *patches = delta
        base = convert(weight.detach().to(torch.float32, copy=True), inplace=True)
        return strength * add_weight_patches(patches, base, weight.shape, in_place=True).reshape(shape)
    if len(delta) == 1:
        return weight_delta(delta[0], strength, shape)
    if len(delta) == 2 and isinstance(delta[0], str):
        kind, values = delta
        if kind == "diff":
            return weight_delta(values[0], strength, shape)
        if kind == "lora" and all(value is None for value in values[3:]):
            return weight_delta(tuple(values[:3]), strength, shape)
        raise NotImplementedError(f"weight patch {kind!r} with extra parts (LoCon mid weights, DoRA scales, LoHa, "
                                  "LoKr, GLoRA) is not supported by Kiln yet")
    up, down, alpha = delta
    scale = (alpha / down.shape[0]) if alpha is not None else 1.0
    product = torch.mm(up.float().flatten(1), down.float().flatten(1))
    return ((strength * scale) * product).reshape(shape)


def add_weight_patches(patches: Iterable[tuple], value: torch.Tensor, shape: torch.Size | tuple[int, ...],
                       rows: slice | None = None, in_place: bool = False) -> torch.Tensor:
    """`value` (float32: the weight, or its rows `rows` of a weight of `shape`) with `patches` added in order,
    ComfyUI's arithmetic: for each (strength, delta, strength_model[, offset, function]) the weight (or its
    `offset` (dim, start, size) slice) is scaled by strength_model, then `function(strength * delta)` is added.
    The sums are made in a copy of `value` (in `value` itself with `in_place`), as ComfyUI patches its float32
    copy of the weight: a merge's deltas may be this very weight."""
    patches = list(patches)
    if not patches:
        return value
    if not in_place:
        value = value.clone()
    for patch in patches:
        strength, delta, strength_model = patch[:3]
        offset = patch[3] if len(patch) > 3 else None
        function = patch[4] if len(patch) > 4 and patch[4] is not None else None
        if offset is not None and rows is not None:
            raise NotImplementedError("a sliced patch on a weight Kiln splits over several parameters")
        target = value if offset is None else value.narrow(*offset)
        if strength_model != 1.0:
            target.mul_(strength_model)
        if strength == 0.0:  # adds nothing (ComfyUI skips it too): a merge at ratio 1 computes no other weights
            continue
        update = weight_delta(delta, strength, target.shape if offset is not None or rows is None else shape)
        update = update.to(value.device, torch.float32)
        if rows is not None:
            update = update[rows]
        update = update.reshape(target.shape)
        target.add_(function(update) if function is not None else update)
    return value


def calculate_weight(patches: list[tuple], weight: torch.Tensor, key: str,
                     intermediate_dtype: torch.dtype = torch.float32,
                     original_weights: dict | None = None) -> torch.Tensor:
    """`weight` with the patches of one key applied (ComfyUI's entry point: packs that store weights their own
    way, as ComfyUI-GGUF does, patch them with this). Computed in float32, returned in `weight`'s dtype."""
    return add_weight_patches(patches, weight.float(), weight.shape).to(weight.dtype)


def pad_tensor_to_shape(tensor: torch.Tensor, new_shape: list[int] | tuple[int, ...]) -> torch.Tensor:
    """`tensor` in the top-left corner of a zero tensor of `new_shape` (no smaller in any dimension)."""
    if len(new_shape) != tensor.ndim:
        raise ValueError("The new shape must have the same number of dimensions as the original tensor")
    if any(new < old for new, old in zip(new_shape, tensor.shape, strict=True)):
        raise ValueError("The new shape must be larger than the original tensor in all dimensions")
    padded = torch.zeros(tuple(new_shape), dtype=tensor.dtype, device=tensor.device)
    padded[tuple(slice(0, size) for size in tensor.shape)] = tensor
    return padded


# --- ComfyUI's key-map functions --------------------------------------------------------------------------------

# The CLIP layer names and their kohya spellings (ComfyUI's table).
LORA_CLIP_MAP = {
    "mlp.fc1": "mlp_fc1",
    "mlp.fc2": "mlp_fc2",
    "self_attn.k_proj": "self_attn_k_proj",
    "self_attn.q_proj": "self_attn_q_proj",
    "self_attn.v_proj": "self_attn_v_proj",
    "self_attn.out_proj": "self_attn_out_proj",
}


def _key_map_value(target: Target, shapes: Mapping[str, torch.Size]) -> Any:
    """A target as ComfyUI's key maps give it: the parameter name for a whole parameter, (name, (0, start,
    size)) for a slice of one, else the Target itself (a layer over several of Kiln's parameters)."""
    if len(target.pieces) == 1:
        piece = target.pieces[0]
        shape = shapes.get(piece.parameter)
        if shape is not None and piece.start == 0 and piece.stop == shape[0]:
            return piece.parameter
        return piece.parameter, (0, piece.start, piece.stop - piece.start)
    return Target(target.pieces, {piece.parameter: shapes[piece.parameter] for piece in target.pieces
                                  if piece.parameter in shapes})


def model_lora_keys_unet(model: Any, key_map: dict | None = None) -> dict[str, Any]:
    """LoRA layer name -> model weight for a loaded model (`ModelPatcher.model`), in every naming Kiln reads
    (see `model_targets`); fills and returns `key_map`."""
    key_map = {} if key_map is None else key_map
    shapes = parameter_shapes(model)
    for name, target in model_targets(model).items():
        key_map.setdefault(name, _key_map_value(target, shapes))
    return key_map


def model_lora_keys_clip(model: Any, key_map: dict | None = None) -> dict[str, Any]:
    """LoRA layer name -> text-encoder weight for a CLIP's `cond_stage_model`; fills and returns `key_map`."""
    key_map = {} if key_map is None else key_map
    shapes = parameter_shapes(model)
    for name, target in text_encoder_targets(model).items():
        key_map.setdefault(name, _key_map_value(target, shapes))
    return key_map


def load_lora(lora: Mapping[str, torch.Tensor], to_load: Mapping[str, Any], log_missing: bool = True
              ) -> dict[Any, Any]:
    """The patches for `ModelPatcher.add_patches` from a LoRA file and a key map (LoRA layer name -> model
    weight, as `model_lora_keys_unet` / `model_lora_keys_clip` give): low-rank `(up, down, alpha)` layers and
    full `("diff", (tensor,))` deltas (`.diff`, `.w_norm` / `.b_norm`, `.diff_b` for the bias). Logs the file's keys
    left unused."""
    layers = lora_layers(lora)
    patches: dict[Any, Any] = {}
    used: set[str] = set()
    for name, destination in to_load.items():
        layer = layers.get(name)
        if layer is not None:
            if isinstance(destination, Target):
                found = _layer_patches(layer, destination, destination.parameter_shapes or {})
                if found is None:
                    continue
                patches.update(found)
            else:
                patches[destination] = (layer.up, layer.down, layer.alpha)
            used.add(name)
            continue
        parameter = destination if isinstance(destination, str) else None
        for suffix in (".diff", ".w_norm"):
            if name + suffix in lora and parameter is not None:
                patches[parameter] = ("diff", (lora[name + suffix],))
                used.add(name)
        for suffix in (".b_norm", ".diff_b"):
            if name + suffix in lora and parameter is not None and parameter.endswith(".weight"):
                patches[parameter.removesuffix(".weight") + ".bias"] = ("diff", (lora[name + suffix],))
                used.add(name)
    if log_missing:
        for key in lora:
            if not any(key.startswith(name + ".") for name in used):
                logging.warning("lora key not loaded: %s", key)
    return patches
