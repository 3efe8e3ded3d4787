"""One key table per network layout, used in both directions: file (original) names <-> Kiln's parameter names.

Kiln builds diffusers and transformers modules; files name the same weights as the original code did, and fuse
some of them (FLUX.1's `qkv` is diffusers' `to_q`, `to_k` and `to_v` stacked row-wise). A `KeyTable` says, for
each original key, which rows of which network parameters it is made of. Loading converts with the libraries'
own converters; the table lets the other two users go the same way without a second hand-written mapping:

- LoRA: a low-rank delta on an original key becomes deltas on the rows of its pieces (`comfy.lora`);
- export (CheckpointSave): an original tensor is the concatenation of its pieces (`export_state_dict`).

Where a library converter is the truth (diffusers' FLUX.1 and SD3 converters), `trace_converter` reads the
table off it: it runs the converter on stand-in tensors whose rows carry their own (key, row) identity, and sees
where every row went. Converters that only rename and slice along the first dimension (all of diffusers' single-
file transformer converters) are read exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Piece:
    """Rows [start, stop) of the network parameter `parameter`."""

    parameter: str
    start: int
    stop: int


@dataclass(frozen=True)
class OriginalKey:
    """An original (file) key: its shape, and the network-parameter pieces its rows are, in row order."""

    shape: tuple[int, ...]
    pieces: tuple[Piece, ...]


KeyTable = dict[str, OriginalKey]


def rename_table(renames: Mapping[str, str], shapes: Mapping[str, tuple[int, ...]]) -> KeyTable:
    """The table of a pure renaming: original key -> the whole parameter of the same shape (`shapes` by
    parameter name)."""
    table: KeyTable = {}
    for original, parameter in renames.items():
        parameter_shape = tuple(shapes[parameter])
        rows = parameter_shape[0] if parameter_shape else 1
        table[original] = OriginalKey(parameter_shape, (Piece(parameter, 0, rows),))
    return table


def trace_converter(convert: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]],
                    layout: Mapping[str, tuple[int, ...]]) -> KeyTable:
    """The key table of `convert` (original state dict -> network state dict) on the original `layout`
    ({key: shape}): each original key is fed as a column of unique row numbers, and each converted tensor's
    numbers say which rows of which keys it holds. Raises ValueError when a converter mixes values (anything
    but renaming, slicing and stacking along the first dimension), or drops rows."""
    stand_ins: dict[str, torch.Tensor] = {}
    owner: list[tuple[str, int]] = []  # row number -> (original key, first row number of that key)
    for key, shape in layout.items():
        rows = shape[0] if shape else 1
        start = len(owner)
        owner.extend((key, start) for _ in range(rows))
        trailing = (1,) * max(len(shape) - 1, 0)
        stand_ins[key] = torch.arange(start, start + rows, dtype=torch.float64).reshape(rows, *trailing) \
            if shape else torch.tensor(float(start), dtype=torch.float64)
    converted = convert(dict(stand_ins))
    pieces_of: dict[str, list[tuple[int, Piece]]] = {key: [] for key in layout}
    for parameter, tensor in converted.items():
        if not isinstance(tensor, torch.Tensor) or tensor.dtype != torch.float64 or tensor.device.type == "meta":
            continue
        numbers = tensor.reshape(tensor.shape[0] if tensor.ndim else 1, -1)[:, 0].tolist()
        if any(number != int(number) or not 0 <= number < len(owner) for number in numbers):
            raise ValueError(f"the converter computed {parameter!r} from several values: not a renaming")
        position = 0
        while position < len(numbers):
            key, key_start = owner[int(numbers[position])]
            run_start = position
            while (position + 1 < len(numbers) and numbers[position + 1] == numbers[position] + 1
                   and owner[int(numbers[position + 1])][0] == key):
                position += 1
            first_row = int(numbers[run_start]) - key_start
            pieces_of[key].append((first_row, Piece(parameter, run_start, position + 1)))
            position += 1
    table: KeyTable = {}
    for key, found in pieces_of.items():
        found.sort(key=lambda entry: entry[0])
        rows = layout[key][0] if layout[key] else 1
        covered = sum(piece.stop - piece.start for _, piece in found)
        if covered != rows:
            raise ValueError(f"the converter used {covered} of the {rows} rows of {key!r}")
        table[key] = OriginalKey(tuple(layout[key]), tuple(piece for _, piece in found))
    return table


def export_state_dict(table: KeyTable, parameters: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Original-layout tensors from the network's `parameters`: each original key's pieces, stacked and shaped
    as the original. A key whose pieces are one whole parameter of the same shape shares its memory."""
    state: dict[str, torch.Tensor] = {}
    for key, original in table.items():
        parts = [parameters[piece.parameter][piece.start:piece.stop] for piece in original.pieces]
        tensor = parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)
        state[key] = tensor.reshape(original.shape) if tuple(tensor.shape) != original.shape else tensor
    return state


def prefixed(table: KeyTable, original_prefix: str = "", parameter_prefix: str = "") -> KeyTable:
    """`table` with `original_prefix` in front of every original key and `parameter_prefix` in front of every
    parameter name."""
    return {original_prefix + key: OriginalKey(entry.shape, tuple(
        Piece(parameter_prefix + piece.parameter, piece.start, piece.stop) for piece in entry.pieces))
        for key, entry in table.items()}


def layout_of(state_dict: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """{key: shape} of a state dict (meta tensors are fine)."""
    return {key: tuple(value.shape) for key, value in state_dict.items()}
