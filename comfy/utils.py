"""Small helpers nodes use: the progress bar (with its global hook), safetensors/torch file loading, resizing."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
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


def load_torch_file(path: str, safe_load: bool = True, device: torch.device | None = None,
                    return_metadata: bool = False):
    """Load a state dict from .safetensors (memory-mapped) or a torch pickle (`weights_only=True`)."""
    device = device or torch.device("cpu")
    metadata = None
    if path.lower().endswith((".safetensors", ".sft")):
        from safetensors.torch import load_file

        state_dict = load_file(path, device=str(device))
        if return_metadata:
            metadata = safetensors_metadata(path)
    else:
        loaded = torch.load(path, map_location=device, weights_only=True)
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
