"""Small helpers nodes use: the progress bar (with its global hook), safetensors/torch file loading, resizing."""

from __future__ import annotations

import collections
import json
import math
import mmap
import os
import struct
import threading
from collections.abc import Callable, Mapping
from typing import Any

import torch

PROGRESS_BAR_ENABLED = True

ProgressHook = Callable[..., None]
_progress_hook: ProgressHook | None = None


def set_progress_bar_global_hook(function: ProgressHook | None) -> None:
    """Install the function every `ProgressBar` reports to: `hook(value, total, preview, node_id=None)`."""
    global _progress_hook
    _progress_hook = function


def get_progress_bar_global_hook() -> ProgressHook | None:
    return _progress_hook


class ProgressBar:
    """Progress of the running node, reported to clients as `progress` messages.

    `node_id` defaults to the node that is executing when the bar reports.
    """

    def __init__(self, total: int, node_id: str | None = None):
        self.total = total
        self.current = 0
        self.node_id = node_id
        self.hook = _progress_hook

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


def safetensors_header(path: str, max_size: int = 100 * 1024 * 1024) -> bytes | None:
    """The raw JSON header of a .safetensors file, or None if it is larger than `max_size` bytes."""
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
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2, "I64": torch.int64, "I32": torch.int32,
    "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def load_safetensors_mapped(path: str) -> dict[str, torch.Tensor]:
    """The tensors of a .safetensors file as views of one private memory map of it: nothing is read until a
    tensor is used, and the pages come from (and stay in) the OS file cache, so loading never holds a second
    copy of the file in the process's own memory. Writing to a tensor copies just that page (copy-on-write);
    the file is never changed.

    The mapping lives as long as any of the tensors. Raises ValueError for a file that is short, has a
    malformed header, or whose tensors do not tile its data exactly (as the format requires).
    """
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
        data_start = 8 + header_length
        entries = _checked_entries(header, file_size - data_start)
        if not entries:
            return {}
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    tensors: dict[str, torch.Tensor] = {}
    for name, dtype, shape, begin, _end in entries:
        count = math.prod(shape)
        if count == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        tensor = torch.frombuffer(mapping, dtype=dtype, count=count, offset=data_start + begin).reshape(shape)
        if (data_start + begin) % dtype.itemsize:
            tensor = tensor.clone()  # a misaligned tensor (rare in files from common writers) gets its own memory
        tensors[name] = tensor
    return tensors


def _checked_entries(header: dict, data_size: int) -> list[tuple[str, torch.dtype, list[int], int, int]]:
    """(name, dtype, shape, begin, end) of every tensor, ordered by offset, after checking that the tensors
    tile the data region with no gap, overlap or overrun."""
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = SAFETENSORS_DTYPES[info["dtype"]]
            shape = [int(size) for size in info["shape"]]
            begin, end = (int(offset) for offset in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"tensor {name!r} has a malformed header entry ({error!r})") from None
        if min(shape, default=0) < 0 or end - begin != math.prod(shape) * dtype.itemsize:
            raise ValueError(f"tensor {name!r}: shape {shape} of {info['dtype']} does not fit offsets {begin}..{end}")
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


def load_torch_file(path: str, safe_load: bool = True, device: torch.device | None = None,
                    return_metadata: bool = False):
    """Load a state dict from .safetensors (memory-mapped, see `load_safetensors_mapped`) or a torch pickle
    (`weights_only=True`). With a `device` other than the CPU, each tensor is copied there from the map."""
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
    """Resize a channels-first batch `[B, C, H, W]` to `height` x `width`, optionally centre-cropping to the
    target aspect first. `upscale_method` is one of nearest-exact, bilinear, area, bicubic, lanczos."""
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
        return _lanczos(samples, width, height)
    if upscale_method in ("bilinear", "bicubic"):
        return torch.nn.functional.interpolate(samples, size=(height, width), mode=upscale_method,
                                               align_corners=False)
    return torch.nn.functional.interpolate(samples, size=(height, width), mode=upscale_method)


def _lanczos(samples: torch.Tensor, width: int, height: int) -> torch.Tensor:
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
