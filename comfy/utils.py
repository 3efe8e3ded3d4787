"""Small helpers nodes use: the progress bar (with its global hook), safetensors/torch file loading, resizing."""

from __future__ import annotations

import collections
import itertools
import json
import math
import os
import struct
import threading
from collections.abc import Callable, Mapping
from typing import Any

import torch

PROGRESS_BAR_ENABLED = True

ProgressHook = Callable[..., None]
# The function every new `ProgressBar` reports to (ComfyUI's name; set it with `set_progress_bar_global_hook`).
PROGRESS_BAR_HOOK: ProgressHook | None = None


def set_progress_bar_enabled(enabled: bool) -> None:
    """Turn the samplers' console progress bars on or off (`PROGRESS_BAR_ENABLED`)."""
    global PROGRESS_BAR_ENABLED
    PROGRESS_BAR_ENABLED = enabled


def set_progress_bar_global_hook(function: ProgressHook | None) -> None:
    """Install the function every `ProgressBar` reports to: `hook(value, total, preview, node_id=None)`."""
    global PROGRESS_BAR_HOOK
    PROGRESS_BAR_HOOK = function


def get_progress_bar_global_hook() -> ProgressHook | None:
    return PROGRESS_BAR_HOOK


class ProgressBar:
    """Progress of the running node, reported to clients as `progress` messages.

    `node_id` defaults to the node that is executing when the bar reports.
    """

    def __init__(self, total: int, node_id: str | None = None):
        self.total = total
        self.current = 0
        self.node_id = node_id
        self.hook = PROGRESS_BAR_HOOK

    def update_absolute(self, value: float, total: int | None = None, preview: Any = None) -> None:
        if total is not None:
            self.total = total
        if value > self.total:
            value = self.total
        self.current = value
        if self.hook is not None:
            self.hook(self.current, self.total, preview, node_id=self.node_id)

    def update(self, value: float) -> None:
        self.update_absolute(self.current + value)


def safetensors_header(safetensors_path: str, max_size: int = 100 * 1024 * 1024) -> bytes | None:
    """The raw JSON header of a .safetensors file, or None if it is larger than `max_size` bytes."""
    path = safetensors_path
    with open(path, "rb") as handle:
        length_bytes = handle.read(8)
        if len(length_bytes) < 8:
            raise ValueError(f"{path} is not a safetensors file (too short)")
        (length,) = struct.unpack("<Q", length_bytes)
        if length > max_size:
            return None
        return handle.read(length)


def safetensors_metadata(path: str) -> dict[str, str]:
    """The `__metadata__` mapping of a .safetensors file ({} when it has none)."""
    header = safetensors_header(path)
    if header is None:
        raise ValueError(f"{path}: safetensors header too large")
    return json.loads(header).get("__metadata__", {}) or {}


SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2, "F8_E4M3FNUZ": torch.float8_e4m3fnuz,
    "F8_E5M2FNUZ": torch.float8_e5m2fnuz, "F8_E8M0": torch.float8_e8m0fnu, "C64": torch.complex64,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U64": torch.uint64, "U32": torch.uint32, "U16": torch.uint16, "U8": torch.uint8, "BOOL": torch.bool,
    "F4": torch.float4_e2m1fn_x2,
}
"""Every dtype the safetensors format defines that torch has a type for. `F4` (fp4 e2m1) packs two values in a
byte: the header counts values, torch's `float4_e2m1fn_x2` counts pairs (the last dimension is halved)."""
SAFETENSORS_PACKED = {"F4": 2}  # values per torch element
# Defined by the format but with no torch type: a file holding them is refused, naming the tensor.
SAFETENSORS_UNSUPPORTED = {"F6_E2M3": "fp6 e2m3", "F6_E3M2": "fp6 e3m2"}


def load_safetensors_mapped(path: str) -> dict[str, torch.Tensor]:
    """The tensors of a .safetensors file, read by the safetensors library (`safe_open`): views of its private,
    copy-on-write memory map of the file, so nothing is read until a tensor is used, the pages come from (and stay
    in) the OS file cache, writing to a tensor copies just that page and the file is never changed.

    Kiln checks the header first (`_checked_entries`), so a short, truncated or malformed file, or a dtype torch
    has no type for, is refused with the tensor's name and the reason. `bench/safetensors_read.py` measured the
    library's reader against Kiln's own memory map: as fast or faster, the same memory.
    """
    from safetensors import safe_open

    with open(path, "rb") as handle:
        file_size = os.fstat(handle.fileno()).st_size
        length_bytes = handle.read(8)
        if len(length_bytes) < 8:
            raise ValueError("not a safetensors file (shorter than its 8-byte header length)")
        (header_length,) = struct.unpack("<Q", length_bytes)
        if 8 + header_length > file_size:
            raise ValueError(f"the header claims {header_length} bytes but the file has {file_size}")
        header = json.loads(handle.read(header_length))
    if not isinstance(header, dict):
        raise ValueError("the safetensors header is not a JSON object")
    entries = _checked_entries(header, file_size - 8 - header_length)
    if not entries:
        return {}
    tensors: dict[str, torch.Tensor] = {}
    with safe_open(path, framework="pt") as handle:
        for name, dtype, *_ in entries:
            tensor = handle.get_tensor(name)
            if tensor.data_ptr() % max(dtype.itemsize, 1):
                tensor = tensor.clone()  # a misaligned tensor (rare in files from common writers) gets its own memory
            tensors[name] = tensor
    return tensors


def _header_dtype(name: str, dtype_name: object) -> tuple[torch.dtype, int]:
    """(torch dtype, values per torch element) of a header's dtype string; ValueError naming the tensor."""
    if dtype_name in SAFETENSORS_UNSUPPORTED:
        raise ValueError(f"tensor {name!r} is stored as {dtype_name} ({SAFETENSORS_UNSUPPORTED[dtype_name]}), which "
                         "torch has no type for")
    if dtype_name not in SAFETENSORS_DTYPES:
        raise ValueError(f"tensor {name!r} has a malformed header entry: the unknown dtype {dtype_name!r} (known: "
                         f"{', '.join(SAFETENSORS_DTYPES)})")
    return SAFETENSORS_DTYPES[dtype_name], SAFETENSORS_PACKED.get(dtype_name, 1)


def _checked_entries(header: dict, data_size: int) -> list[tuple[str, torch.dtype, list[int], int, int]]:
    """(name, dtype, shape, begin, end) of every tensor, ordered by offset, after checking that the tensors
    tile the data region with no gap, overlap or overrun. `shape` is torch's (packed dtypes: the last dimension
    divided by the values each element holds)."""
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype_name = info["dtype"]
            shape = [int(size) for size in info["shape"]]
            begin, end = (int(offset) for offset in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"tensor {name!r} has a malformed header entry ({error!r})") from None
        dtype, packed = _header_dtype(name, dtype_name)
        if packed > 1:
            if not shape or shape[-1] % packed:
                raise ValueError(f"tensor {name!r}: {dtype_name} needs a last dimension divisible by {packed}, "
                                 f"not {shape}")
            shape = [*shape[:-1], shape[-1] // packed]
        if min(shape, default=0) < 0 or end - begin != math.prod(shape) * dtype.itemsize:
            raise ValueError(f"tensor {name!r}: shape {shape} of {dtype_name} does not fit offsets {begin}..{end}")
        entries.append((name, dtype, shape, begin, end))
    entries.sort(key=lambda entry: (entry[3], entry[4]))
    position = 0
    for name, _, _, begin, end in entries:
        if begin != position:
            raise ValueError(f"tensor {name!r} starts at byte {begin} of the data, expected {position}")
        position = end
    if position > data_size:
        raise ValueError(f"the tensors need {position} bytes of data but the file holds {data_size} "
                         "(the file is truncated)")
    return entries


BLOCK_ALIGNMENT = 16  # elements: each tensor in a block starts on a 64-byte boundary (float32)


def cast_in_one_block(tensors: Mapping[str, torch.Tensor], dtype: torch.dtype,
                      copy_all: bool = False) -> dict[str, torch.Tensor]:
    """`tensors` with each floating-point tensor cast to `dtype`, the results laid out in one contiguous block.

    One large allocation instead of one per tensor: the kernel maps it with far fewer page faults (and, where
    torch asks for them, 2 MiB pages), which made casting SD1.5's 1,100 fp16 tensors to float32 about 3x faster
    on this machine. Tensors already in `dtype` pass through as they are (still memory-mapped, say) unless
    `copy_all`; other tensors (integers) pass through, or are copied with `copy_all`. The block is freed when
    the last tensor viewing it is.
    """
    chosen = [key for key, value in tensors.items()
              if value.is_floating_point() and (copy_all or value.dtype != dtype)]
    padded = [-(-tensors[key].numel() // BLOCK_ALIGNMENT) * BLOCK_ALIGNMENT for key in chosen]
    block = torch.empty(sum(padded), dtype=dtype)
    cast: dict[str, torch.Tensor] = {}
    position = 0
    for key, size in zip(chosen, padded, strict=True):
        source = tensors[key]
        cast[key] = block[position:position + source.numel()].view(source.shape)
        cast[key].copy_(source)
        position += size
    return {key: cast[key] if key in cast else value.clone() if copy_all else value
            for key, value in tensors.items()}


_file_reads: collections.Counter[str] = collections.Counter()
_file_reads_lock = threading.Lock()


def model_file_reads() -> dict[str, int]:
    """How many times each file (by name) has been read by `load_torch_file` in this process."""
    with _file_reads_lock:
        return dict(_file_reads)


def load_torch_file(ckpt: str, safe_load: bool = True, device: torch.device | None = None,
                    return_metadata: bool = False):
    """Load a state dict from .safetensors (memory-mapped, see `load_safetensors_mapped`) or a torch pickle
    (`weights_only=True`). With a `device` other than the CPU, each tensor is copied there from the map."""
    path = ckpt
    with _file_reads_lock:
        _file_reads[os.path.basename(path)] += 1
    device = torch.device(device) if device is not None else torch.device("cpu")
    metadata = None
    if path.lower().endswith((".safetensors", ".sft")):
        state_dict = load_safetensors_mapped(path)
        if device.type != "cpu":
            state_dict = {key: value.to(device) for key, value in state_dict.items()}
        if return_metadata:
            metadata = safetensors_metadata(path)
    else:
        try:
            loaded = torch.load(path, map_location=device, weights_only=True, mmap=True)
        except RuntimeError as error:
            if "mmap" not in str(error):
                raise
            loaded = torch.load(path, map_location=device, weights_only=True)  # the legacy (pre-zip) format
        state_dict = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else loaded
    return (state_dict, metadata) if return_metadata else state_dict


def common_upscale(samples: torch.Tensor, width: int, height: int, upscale_method: str, crop: str) -> torch.Tensor:
    """Resize a channels-first batch `[B, C, H, W]` (or `[B, C, T, H, W]`, frame by frame) to `height` x `width`,
    optionally centre-cropping to the target aspect first. `upscale_method` is one of nearest-exact, bilinear,
    area, bicubic, lanczos."""
    if samples.ndim > 4:
        batch, channels = samples.shape[0], samples.shape[1]
        frames = samples.reshape(batch, channels, -1, samples.shape[-2], samples.shape[-1]).movedim(2, 1)
        resized = common_upscale(frames.reshape(-1, channels, samples.shape[-2], samples.shape[-1]), width, height,
                                 upscale_method, crop)
        resized = resized.reshape(batch, -1, channels, height, width).movedim(2, 1)
        return resized.reshape(samples.shape[:-2] + (height, width))
    if crop == "center":
        old_width, old_height = samples.shape[-1], samples.shape[-2]
        old_aspect = old_width / old_height
        new_aspect = width / height
        x = y = 0
        if old_aspect > new_aspect:
            x = round((old_width - old_width * (new_aspect / old_aspect)) / 2)
        elif old_aspect < new_aspect:
            y = round((old_height - old_height * (old_aspect / new_aspect)) / 2)
        samples = samples.narrow(-2, y, old_height - y * 2).narrow(-1, x, old_width - x * 2)
    if upscale_method == "lanczos":
        return lanczos(samples, width, height)
    if upscale_method in ("bilinear", "bicubic"):
        return torch.nn.functional.interpolate(samples, size=(height, width), mode=upscale_method,
                                               align_corners=False)
    return torch.nn.functional.interpolate(samples, size=(height, width), mode=upscale_method)


def lanczos(samples: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """`samples` [B, C, H, W] in 0..1 resized to height x width with Pillow's Lanczos filter (through 8-bit images,
    as ComfyUI does)."""
    import numpy as np
    from PIL import Image

    images = []
    for image in samples.movedim(1, -1):
        array = np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)
        channels = array.shape[-1]
        pil = Image.fromarray(array[..., 0] if channels == 1 else array)
        resized = np.asarray(pil.resize((width, height), resample=Image.Resampling.LANCZOS)).astype(np.float32)
        resized = torch.from_numpy(resized / 255.0)
        images.append(resized.unsqueeze(-1) if channels == 1 else resized)
    return torch.stack(images).movedim(-1, 1).to(samples.device, samples.dtype)


def repeat_to_batch_size(tensor: torch.Tensor, batch_size: int, dim: int = 0) -> torch.Tensor:
    """Repeat (or cut) `tensor` along `dim` to exactly `batch_size` entries."""
    if tensor.shape[dim] > batch_size:
        return tensor.narrow(dim, 0, batch_size)
    if tensor.shape[dim] < batch_size:
        repeats = [1] * tensor.ndim
        repeats[dim] = -(-batch_size // tensor.shape[dim])
        return tensor.repeat(repeats).narrow(dim, 0, batch_size)
    return tensor


def get_tiled_scale_steps(width: int, height: int, tile_x: int, tile_y: int, overlap: int) -> int:
    """How many tiles `tiled_scale` runs on one width x height image."""
    rows = 1 if height <= tile_y else math.ceil((height - overlap) / (tile_y - overlap))
    columns = 1 if width <= tile_x else math.ceil((width - overlap) / (tile_x - overlap))
    return rows * columns


def _feather_mask(shape: torch.Size, feathers: list[int], like: torch.Tensor) -> torch.Tensor:
    """Ones of `shape` [B, C, *spatial], ramped linearly to 1/feather over `feathers[d]` pixels at both ends of
    each spatial dimension d (a dimension not longer than its ramp keeps ones)."""
    mask = torch.ones(shape, dtype=like.dtype, device=like.device)
    for dim, feather in enumerate(feathers, start=2):
        if feather >= mask.shape[dim]:
            continue
        for step in range(feather):
            weight = (step + 1) / feather
            mask.narrow(dim, step, 1).mul_(weight)
            mask.narrow(dim, mask.shape[dim] - 1 - step, 1).mul_(weight)
    return mask


@torch.inference_mode()
def tiled_scale_multidim(samples: torch.Tensor, function: Callable[[torch.Tensor], torch.Tensor],
                         tile: tuple[int, ...] = (64, 64), overlap: int | tuple[int, ...] = 8,
                         upscale_amount: float | tuple[float, ...] = 4, out_channels: int = 3,
                         output_device: str | torch.device = "cpu", downscale: bool = False,
                         index_formulas: Any = None, pbar: ProgressBar | None = None) -> torch.Tensor:
    """Apply `function` (which scales each spatial dimension by `upscale_amount`, or divides by it with
    `downscale`) to overlapping tiles of `samples` [B, C, *spatial] and blend them: each tile's result is weighted
    by a mask that ramps up over the scaled overlap at its edges, and the sum is divided by the summed weights.
    Images that fit in one tile are passed whole. `pbar` advances once per tile."""
    dims = len(tile)
    scales = list(upscale_amount) if isinstance(upscale_amount, (tuple, list)) else [upscale_amount] * dims
    overlaps = list(overlap) if isinstance(overlap, (tuple, list)) else [overlap] * dims
    positions_scale = index_formulas if index_formulas is not None else scales
    positions_scale = list(positions_scale) if isinstance(positions_scale, (tuple, list)) else [positions_scale] * dims

    def scaled(factors: list, dim: int, value: float) -> float:
        factor = factors[dim]
        if callable(factor):
            return factor(value)
        return value / factor if downscale else value * factor

    def scaled_shape(shape: torch.Size) -> list[int]:
        return [round(scaled(scales, dim, size)) for dim, size in enumerate(shape)]

    output = torch.empty([samples.shape[0], out_channels] + scaled_shape(samples.shape[2:]), device=output_device)
    for index in range(samples.shape[0]):
        single = samples[index:index + 1]
        if all(single.shape[dim + 2] <= tile[dim] for dim in range(dims)):
            output[index:index + 1] = function(single).to(output_device)
            if pbar is not None:
                pbar.update(1)
            continue
        total = torch.zeros([1, out_channels] + scaled_shape(single.shape[2:]), device=output_device)
        weights = torch.zeros_like(total)
        starts = [range(0, single.shape[dim + 2] - overlaps[dim], tile[dim] - overlaps[dim])
                  if single.shape[dim + 2] > tile[dim] else [0] for dim in range(dims)]
        for corner in itertools.product(*starts):
            piece, placed = single, []
            for dim in range(dims):
                size = single.shape[dim + 2]
                start = max(0, min(size - overlaps[dim], corner[dim]))
                piece = piece.narrow(dim + 2, start, min(tile[dim], size - start))
                placed.append(round(scaled(positions_scale, dim, start)))
            result = function(piece).to(output_device)
            mask = _feather_mask(result.shape, [round(scaled(scales, dim, overlaps[dim])) for dim in range(dims)],
                                 result)
            target, target_weights = total, weights
            for dim in range(dims):
                target = target.narrow(dim + 2, placed[dim], mask.shape[dim + 2])
                target_weights = target_weights.narrow(dim + 2, placed[dim], mask.shape[dim + 2])
            target.add_(result * mask)
            target_weights.add_(mask)
            if pbar is not None:
                pbar.update(1)
        output[index:index + 1] = total / weights
    return output


def tiled_scale(samples: torch.Tensor, function: Callable[[torch.Tensor], torch.Tensor], tile_x: int = 64,
                tile_y: int = 64, overlap: int = 8, upscale_amount: float = 4, out_channels: int = 3,
                output_device: str | torch.device = "cpu", pbar: ProgressBar | None = None) -> torch.Tensor:
    """`tiled_scale_multidim` over the last two dimensions of [B, C, H, W] with tile_y x tile_x tiles."""
    return tiled_scale_multidim(samples, function, (tile_y, tile_x), overlap=overlap, upscale_amount=upscale_amount,
                                out_channels=out_channels, output_device=output_device, pbar=pbar)


def state_dict_prefix_replace(state_dict: dict[str, Any], replace_prefix: Mapping[str, str],
                              filter_keys: bool = False) -> dict[str, Any]:
    """Rename keys starting with each prefix of `replace_prefix` to start with its replacement instead. Changes
    `state_dict` in place and returns it; with `filter_keys`, returns a new dict of the renamed keys only."""
    result: dict[str, Any] = {} if filter_keys else state_dict
    for old, new in replace_prefix.items():
        for key in [key for key in state_dict if key.startswith(old)]:
            result[new + key[len(old):]] = state_dict.pop(key)
    return result


def state_dict_key_replace(state_dict: dict[str, Any], keys_to_replace: Mapping[str, str]) -> dict[str, Any]:
    """Rename the keys of `keys_to_replace` (old -> new) that `state_dict` has; in place, and returned."""
    for old, new in keys_to_replace.items():
        if old in state_dict:
            state_dict[new] = state_dict.pop(old)
    return state_dict


def save_torch_file(sd: Mapping[str, torch.Tensor], ckpt: str, metadata: dict[str, str] | None = None) -> None:
    """Write a state dict as a .safetensors file (with string `metadata` when given), whole or not at all."""
    from safetensors.torch import save_file

    from comfy.file_writing import whole_file

    with whole_file(ckpt) as partial:
        save_file(dict(sd), partial, metadata=metadata)


def write_safetensors(path: str, tensors: Mapping[str, torch.Tensor], metadata: dict[str, str] | None = None
                      ) -> None:
    """Write `tensors` to `path` in the safetensors format, each streamed from its own memory: no copy of a
    multi-GB state dict, and tensors may share memory (views of one block, tied weights), which
    `safetensors.torch.save_file` refuses. Wider dtypes first, then by name, as safetensors orders them."""
    names = {dtype: name for name, dtype in SAFETENSORS_DTYPES.items() if name not in SAFETENSORS_PACKED}
    ordered = sorted(tensors.items(), key=lambda item: (-item[1].element_size(), item[0]))
    header: dict[str, Any] = {"__metadata__": dict(metadata)} if metadata else {}
    offset = 0
    for key, tensor in ordered:
        if tensor.dtype not in names:
            raise ValueError(f"{key}: Kiln cannot write {tensor.dtype} to a safetensors file")
        size = tensor.numel() * tensor.element_size()
        header[key] = {"dtype": names[tensor.dtype], "shape": list(tensor.shape),
                       "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)))
        file.write(encoded)
        for _, tensor in ordered:
            data = tensor.detach().to("cpu").contiguous().reshape(-1)
            if data.numel():
                file.write(data.view(torch.uint8).numpy().data)


def calculate_parameters(sd: Mapping[str, torch.Tensor], prefix: str = "") -> int:
    """How many values the tensors under `prefix` hold."""
    return sum(tensor.nelement() for key, tensor in sd.items() if key.startswith(prefix))


def weight_dtype(sd: Mapping[str, torch.Tensor], prefix: str = "") -> torch.dtype | None:
    """The dtype that holds the most values among the tensors under `prefix` (None when there are none)."""
    counts: collections.Counter[torch.dtype] = collections.Counter()
    for key, tensor in sd.items():
        if key.startswith(prefix):
            counts[tensor.dtype] += tensor.numel()
    return max(counts, key=counts.__getitem__) if counts else None


def convert_sd_to(state_dict: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Cast every tensor of `state_dict` to `dtype`, in place; returns it."""
    for key in list(state_dict):
        state_dict[key] = state_dict[key].to(dtype)
    return state_dict


def get_attr(obj: Any, attr: str) -> Any:
    """The attribute at dotted path `attr` under `obj` ("diffusion_model.conv_in.weight")."""
    for name in attr.split("."):
        obj = getattr(obj, name)
    return obj


def set_attr(obj: Any, attr: str, value: Any) -> Any:
    """Set the attribute at dotted path `attr` under `obj` to `value`; returns the one it replaced."""
    owner_path, _, name = attr.rpartition(".")
    owner = get_attr(obj, owner_path) if owner_path else obj
    previous = getattr(owner, name)
    setattr(owner, name, value)
    return previous


def set_attr_param(obj: Any, attr: str, value: torch.Tensor) -> Any:
    """`set_attr` with `value` wrapped as a frozen `torch.nn.Parameter`; returns the replaced parameter."""
    return set_attr(obj, attr, torch.nn.Parameter(value, requires_grad=False))


def copy_to_param(obj: Any, attr: str, value: torch.Tensor) -> None:
    """Copy `value` into the existing tensor at dotted path `attr`, keeping that tensor object."""
    get_attr(obj, attr).data.copy_(value)


def _batch_indices(in_batch_size: int, batch_size: int) -> list[int]:
    """Which input index fills each of `batch_size` slots: evenly spread picks when shrinking (first and last
    kept), each index repeated in turn when growing."""
    if batch_size < in_batch_size:
        scale = (in_batch_size - 1) / (batch_size - 1)
        return [min(round(i * scale), in_batch_size - 1) for i in range(batch_size)]
    scale = in_batch_size / batch_size
    return [min(math.floor((i + 0.5) * scale), in_batch_size - 1) for i in range(batch_size)]


def resize_to_batch_size(tensor: torch.Tensor, batch_size: int) -> torch.Tensor:
    """`tensor` with its first dimension resampled to `batch_size` entries (see `_batch_indices`)."""
    if tensor.shape[0] == batch_size:
        return tensor
    if batch_size <= 1:
        return tensor[:batch_size]
    return tensor[_batch_indices(tensor.shape[0], batch_size)]


def resize_list_to_batch_size(l: list, batch_size: int) -> list:  # noqa: E741 - ComfyUI's parameter name
    """`l` resampled to `batch_size` entries as `resize_to_batch_size` does (an empty list stays empty)."""
    items = l
    if len(items) in (batch_size, 0):
        return items
    if batch_size <= 1:
        return items[:batch_size]
    return [items[index] for index in _batch_indices(len(items), batch_size)]


def reshape_mask(input_mask: torch.Tensor, output_shape: tuple[int, ...] | torch.Size) -> torch.Tensor:
    """A mask resized (linear / bilinear / trilinear for 1, 2, 3 spatial dimensions) to `output_shape`
    [B, C, *spatial], its channel dimension repeated to C and its batch to B."""
    dims = len(output_shape) - 2
    mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]
    if dims == 2:
        input_mask = input_mask.reshape((-1, 1, input_mask.shape[-2], input_mask.shape[-1]))
    elif dims == 3 and input_mask.ndim < 5:
        input_mask = input_mask.reshape((1, 1, -1, input_mask.shape[-2], input_mask.shape[-1]))
    mask = torch.nn.functional.interpolate(input_mask, size=tuple(output_shape[2:]), mode=mode)
    if mask.shape[1] < output_shape[1]:
        mask = mask.repeat((1, output_shape[1]) + (1,) * dims)[:, :output_shape[1]]
    return repeat_to_batch_size(mask, output_shape[0])


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_function  # noqa: E402

_REASON = "Kiln converts checkpoint keys with its own per-family tables (comfy/families), not ComfyUI's"

ALWAYS_SAFE_LOAD = False  # Kiln's torch loads with weights_only where it can
DISABLE_MMAP = False
MMAP_TORCH_FILES = False
MMDIT_MAP_BASIC = UnsupportedValue(__name__, 'MMDIT_MAP_BASIC', _REASON)
MMDIT_MAP_BLOCK = UnsupportedValue(__name__, 'MMDIT_MAP_BLOCK', _REASON)
PIXART_MAP_BASIC = UnsupportedValue(__name__, 'PIXART_MAP_BASIC', _REASON)
PIXART_MAP_BLOCK = UnsupportedValue(__name__, 'PIXART_MAP_BLOCK', _REASON)
TRANSFORMER_BLOCKS = UnsupportedValue(__name__, 'TRANSFORMER_BLOCKS', _REASON)
UNET_MAP_ATTENTIONS = UnsupportedValue(__name__, 'UNET_MAP_ATTENTIONS', _REASON)
UNET_MAP_BASIC = UnsupportedValue(__name__, 'UNET_MAP_BASIC', _REASON)
UNET_MAP_RESNET = UnsupportedValue(__name__, 'UNET_MAP_RESNET', _REASON)
auraflow_to_diffusers = unsupported_function(__name__, 'auraflow_to_diffusers', 'mmdit_config, output_prefix=', _REASON)
bislerp = unsupported_function(__name__, 'bislerp', 'samples, width, height', _REASON)
clip_text_transformers_convert = unsupported_function(__name__, 'clip_text_transformers_convert', 'sd, prefix_from, prefix_to', _REASON)
flux_to_diffusers = unsupported_function(__name__, 'flux_to_diffusers', 'mmdit_config, output_prefix=', _REASON)
mmdit_to_diffusers = unsupported_function(__name__, 'mmdit_to_diffusers', 'mmdit_config, output_prefix=', _REASON)
pixart_to_diffusers = unsupported_function(__name__, 'pixart_to_diffusers', 'mmdit_config, output_prefix=', _REASON)
swap_scale_shift = unsupported_function(__name__, 'swap_scale_shift', 'weight', _REASON)
transformers_convert = unsupported_function(__name__, 'transformers_convert', 'sd, prefix_from, prefix_to, number', _REASON)
unet_to_diffusers = unsupported_function(__name__, 'unet_to_diffusers', 'unet_config', _REASON)
upscale_dit_mask = unsupported_function(__name__, 'upscale_dit_mask', 'mask, img_size_in, img_size_out', _REASON)
