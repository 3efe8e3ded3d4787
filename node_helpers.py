"""Helpers shared by node classes: Pillow calls, hashing, conditioning edits, and image/latent file I/O.

Custom nodes import `node_helpers.pillow`, `node_helpers.hasher` and `node_helpers.conditioning_set_values` by
those names; the rest serves `nodes.py` and `comfy_extras/`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch
from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from comfy.cli_args import args
from comfy.file_writing import whole_file

T = TypeVar("T")


class SavesToOutputFolder:
    """Base of the nodes that save files: into the output folder, as type "output", with nothing added to the
    file name prefix (the preview nodes set the temp folder and a random suffix in their own __init__)."""

    def __init__(self):
        import folder_paths  # deferred: custom nodes import node_helpers before the folders are configured

        self.output_dir = folder_paths.get_output_directory()
        self.type = "output"
        self.prefix_append = ""

# MPO "frames" are stereo views of one picture, not an animation: only the first is loaded.
_MULTI_FRAME_FORMATS_SEEN_AS_ONE = {"MPO"}


def pillow(fn: Callable[[Any], T], arg: Any) -> T:
    """Call a Pillow function, retrying once with truncated-image loading allowed.

    Some valid-enough files (cut-off JPEGs, odd PNG chunks) raise on the strict first attempt.
    """
    previous = None
    try:
        return fn(arg)
    except (OSError, UnidentifiedImageError, ValueError):
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        return fn(arg)
    finally:
        if previous is not None:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


_HASH_FUNCTIONS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hasher() -> Callable[..., Any]:
    """The hashlib constructor chosen by `--default-hashing-function` (sha256 by default)."""
    return _HASH_FUNCTIONS[args.default_hashing_function]


def conditioning_set_values(conditioning: list, values: dict | None = None, append: bool = False) -> list:
    """A copy of `conditioning` ([[tensor, options], ...]) with `values` set in every entry's options dict.

    With `append`, a value already present is combined with the new one by `+` (lists grow, numbers add).
    The tensors are shared, the option dicts are copied.
    """
    values = values or {}
    result = []
    for tensor, options in conditioning:
        options = options.copy()
        for key, value in values.items():
            if append and options.get(key) is not None:
                value = options[key] + value
            options[key] = value
        result.append([tensor, options])
    return result


def string_to_torch_dtype(string: str) -> torch.dtype | None:
    """Map "fp32"/"fp16"/"bf16" to a torch dtype (None for anything else)."""
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}.get(string)


def image_alpha_fix(destination: torch.Tensor, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Give two [B,H,W,C] images the same channel count: an extra alpha band of ones, or a dropped one."""
    if destination.shape[-1] < source.shape[-1]:
        source = source[..., :destination.shape[-1]]
    elif destination.shape[-1] > source.shape[-1]:
        source = torch.nn.functional.pad(source, (0, 1), value=1.0)[..., :destination.shape[-1]]
    return destination, source


def file_sha256(path: str) -> str:
    """Hex sha256 of a file's bytes (what LoadImage's IS_CHANGED reports)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- images ------------------------------------------------------------------------------------------------


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """One image [H,W,C] in 0..1 → an 8-bit Pillow image (values clipped, then truncated like ComfyUI)."""
    array = np.clip(255.0 * image.cpu().float().numpy(), 0, 255).astype(np.uint8)
    if array.shape[-1] == 1:
        array = array[..., 0]
    return Image.fromarray(array)


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """A Pillow image → [1,H,W,C] float32 in 0..1 (C as in the image's bands)."""
    array = np.array(image).astype(np.float32) / 255.0
    if array.ndim == 2:
        array = array[..., None]
    return torch.from_numpy(array)[None]


def png_metadata(prompt: Any = None, extra_pnginfo: dict | None = None) -> PngInfo | None:
    """PNG text chunks for a saved image: `prompt` and one per extra_pnginfo key (normally `workflow`), each
    JSON-encoded. None when `--disable-metadata` is set. Pillow writes iTXt when a value is not latin-1."""
    if args.disable_metadata:
        return None
    metadata = PngInfo()
    if prompt is not None:
        metadata.add_text("prompt", json.dumps(prompt))
    for key, value in (extra_pnginfo or {}).items():
        metadata.add_text(key, json.dumps(value))
    return metadata


def save_png(image: torch.Tensor, path: str, metadata: PngInfo | None, compress_level: int) -> None:
    """Write one image [H,W,C] in 0..1 as a PNG."""
    with whole_file(path) as partial:
        tensor_to_pil(image).save(partial, pnginfo=metadata, compress_level=compress_level)


def _frame_mask(frame: Image.Image) -> torch.Tensor | None:
    """1 − alpha as [H,W] for a frame with transparency, else None."""
    if "A" in frame.getbands():
        alpha = frame.getchannel("A")
    elif frame.mode == "P" and "transparency" in frame.info:  # palette transparency lives in `info`
        alpha = frame.convert("RGBA").getchannel("A")
    else:
        return None
    return 1.0 - torch.from_numpy(np.array(alpha).astype(np.float32) / 255.0)


def _to_8bit_range(frame: Image.Image) -> Image.Image:
    # 16/32-bit integer images ("I") hold 0..65535; scale into 0..255 before converting to RGB.
    if frame.mode == "I":
        return frame.point(lambda value: value * (1 / 255))
    return frame


def load_image_file(path: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Read an image file as LoadImage does.

    Returns (image [N,H,W,3] float32 0..1, mask [N,H,W] = 1 − alpha). N > 1 only for multi-frame files
    (GIF, APNG, TIFF...), keeping the frames that share the first frame's size. A file without transparency
    gets a zero mask of [1,64,64] (ComfyUI's placeholder), or of the image size when frames are stacked.
    """
    opened = pillow(Image.open, path)
    images: list[torch.Tensor] = []
    masks: list[torch.Tensor | None] = []
    size = None
    for frame in ImageSequence.Iterator(opened):
        frame = _to_8bit_range(pillow(ImageOps.exif_transpose, frame))
        rgb = frame.convert("RGB")
        if size is None:
            size = rgb.size
        elif rgb.size != size:
            continue
        images.append(pil_to_tensor(rgb))
        masks.append(_frame_mask(frame))
        if opened.format in _MULTI_FRAME_FORMATS_SEEN_AS_ONE:
            break
    width, height = size
    if len(images) == 1:
        mask = masks[0] if masks[0] is not None else torch.zeros((64, 64), dtype=torch.float32)
        return images[0], mask.unsqueeze(0)
    stacked = [m if m is not None else torch.zeros((height, width), dtype=torch.float32) for m in masks]
    return torch.cat(images, dim=0), torch.stack(stacked, dim=0)


_CHANNEL_BANDS = {"alpha": "A", "red": "R", "green": "G", "blue": "B"}


def load_image_channel(path: str, channel: str) -> torch.Tensor:
    """One channel of an image file as a mask [1,H,W] in 0..1; the alpha channel is inverted (1 − alpha).
    `channel` is alpha, red, green or blue. An image without that band gives zeros [1,64,64]."""
    image = pillow(ImageOps.exif_transpose, pillow(Image.open, path))
    if image.getbands() != ("R", "G", "B", "A"):
        image = _to_8bit_range(image).convert("RGBA")
    band = _CHANNEL_BANDS[channel]
    if band not in image.getbands():
        return torch.zeros((1, 64, 64), dtype=torch.float32)
    mask = torch.from_numpy(np.array(image.getchannel(band)).astype(np.float32) / 255.0)
    if band == "A":
        mask = 1.0 - mask
    return mask.unsqueeze(0)


def list_input_files(extensions: tuple[str, ...] | None = None) -> list[str]:
    """Sorted names of the plain files at the top of the input directory, optionally filtered by extension."""
    import folder_paths

    input_dir = folder_paths.get_input_directory()
    if not os.path.isdir(input_dir):
        return []
    names = [name for name in os.listdir(input_dir) if os.path.isfile(os.path.join(input_dir, name))]
    if extensions is not None:
        names = [name for name in names if name.lower().endswith(extensions)]
    return sorted(names)


# --- resizing ----------------------------------------------------------------------------------------------


def center_crop_to_aspect(samples: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Cut the edges of a channels-first batch [..., H, W] so it has the aspect ratio width:height."""
    old_width, old_height = samples.shape[-1], samples.shape[-2]
    old_aspect, new_aspect = old_width / old_height, width / height
    x = y = 0
    if old_aspect > new_aspect:
        x = round((old_width - old_width * (new_aspect / old_aspect)) / 2)
    elif old_aspect < new_aspect:
        y = round((old_height - old_height * (old_aspect / new_aspect)) / 2)
    return samples.narrow(-2, y, old_height - 2 * y).narrow(-1, x, old_width - 2 * x)


def _slerp(low: torch.Tensor, high: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between vectors along dim 1 ([N,C]); the length is interpolated linearly."""
    low_norm = low.norm(dim=1, keepdim=True)
    high_norm = high.norm(dim=1, keepdim=True)
    low_unit = low / low_norm.clamp_min(1e-12)
    high_unit = high / high_norm.clamp_min(1e-12)
    cosine = (low_unit * high_unit).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(cosine)
    sin_omega = torch.sin(omega)
    # Nearly parallel vectors: slerp degenerates to lerp.
    safe = sin_omega.abs() > 1e-4
    denominator = torch.where(safe, sin_omega, torch.ones_like(sin_omega))
    spherical = (torch.sin((1.0 - ratio) * omega) / denominator) * low_unit + \
        (torch.sin(ratio * omega) / denominator) * high_unit
    linear = (1.0 - ratio) * low_unit + ratio * high_unit
    direction = torch.where(safe, spherical, linear)
    result = direction * (low_norm + (high_norm - low_norm) * ratio)
    # Zero vectors have no direction; fall back to plain interpolation there.
    degenerate = (low_norm < 1e-12) | (high_norm < 1e-12)
    return torch.where(degenerate, (1.0 - ratio) * low + ratio * high, result)


def _bislerp_axis(samples: torch.Tensor, new_size: int, dim: int) -> torch.Tensor:
    """Resize [B,C,H,W] along `dim` (2 or 3) with slerp between the two nearest source positions."""
    old_size = samples.shape[dim]
    if old_size == new_size:
        return samples
    scale = old_size / new_size
    positions = ((torch.arange(new_size, dtype=torch.float64) + 0.5) * scale - 0.5).clamp(0, old_size - 1)
    low_index = positions.floor().long()
    high_index = (low_index + 1).clamp(max=old_size - 1)
    ratio = (positions - low_index).to(samples.dtype)
    moved = samples.movedim(dim, -1)  # [..., old]
    low = moved.index_select(-1, low_index)
    high = moved.index_select(-1, high_index)
    # Put channels on dim 1 of a flat [N, C] view: [B, C, other, new] → [B*other*new, C]
    low_flat = low.movedim(1, -1).reshape(-1, samples.shape[1])
    high_flat = high.movedim(1, -1).reshape(-1, samples.shape[1])
    ratio_flat = ratio.expand(low.shape).movedim(1, -1).reshape(-1, samples.shape[1])[:, :1]
    blended = _slerp(low_flat, high_flat, ratio_flat)
    blended = blended.reshape(low.movedim(1, -1).shape).movedim(-1, 1)
    return blended.movedim(-1, dim)


def bislerp(samples: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Bilinear resize of a latent batch [B,C,H,W] that slerps the channel vectors instead of lerping them,
    which keeps their length (useful for latents, where plain averaging shrinks the signal)."""
    dtype = samples.dtype
    samples = samples.float()
    samples = _bislerp_axis(samples, width, 3)
    samples = _bislerp_axis(samples, height, 2)
    return samples.to(dtype)


def upscale(samples: torch.Tensor, width: int, height: int, method: str, crop: str) -> torch.Tensor:
    """`comfy.utils.common_upscale` plus the latent-only "bislerp" method. `samples` is [B,C,H,W]."""
    from comfy.utils import common_upscale

    if method != "bislerp":
        return common_upscale(samples, width, height, method, crop)
    if crop == "center":
        samples = center_crop_to_aspect(samples, width, height)
    return bislerp(samples, width, height)


def repeat_batch(tensor: torch.Tensor, count: int) -> torch.Tensor:
    """Repeat a batch along dim 0 until it has at least `count` entries, then cut to exactly `count`."""
    if tensor.shape[0] >= count:
        return tensor[:count]
    return tensor.repeat((math.ceil(count / tensor.shape[0]),) + (1,) * (tensor.ndim - 1))[:count]


# --- feathered edges -----------------------------------------------------------------------------------------


def outpaint_feather(height: int, width: int, feathering: int, top: bool, bottom: bool, left: bool,
                     right: bool) -> torch.Tensor:
    """The inpainting mask [height, width] over the original pixels for ImagePadForOutpaint.

    Pixels within `feathering` of a padded side get ((feathering − distance) / feathering)²; the rest 0.
    No feathering when `feathering` is 0 or at least half the image's height or width.
    """
    if not (0 < feathering and feathering * 2 < height and feathering * 2 < width):
        return torch.zeros((height, width), dtype=torch.float32)
    rows = torch.arange(height, dtype=torch.float32)[:, None].expand(height, width)
    cols = torch.arange(width, dtype=torch.float32)[None, :].expand(height, width)
    far_rows, far_cols = torch.full_like(rows, height), torch.full_like(cols, width)
    # Distance to the nearest padded side; unpadded sides count as far away.
    distance = torch.stack([
        rows if top else far_rows, height - rows if bottom else far_rows,
        cols if left else far_cols, width - cols if right else far_cols,
    ]).amin(dim=0)
    ramp = ((feathering - distance) / feathering).clamp_min(0.0)
    return ramp * ramp


def composite_feather(source: torch.Tensor, feather: int, top: bool, bottom: bool, left: bool,
                      right: bool) -> torch.Tensor:
    """Blend weights shaped like `source` [..., H, W] for LatentComposite: 1 inside, fading linearly to
    1/feather over the outer `feather` rows/columns of each flagged edge (weights multiply in corners)."""
    mask = torch.ones_like(source)
    height, width = source.shape[-2], source.shape[-1]
    for step in range(feather):
        weight = (step + 1) / feather
        if top:
            mask[..., step, :] *= weight
        if bottom:
            mask[..., height - 1 - step, :] *= weight
        if left:
            mask[..., :, step] *= weight
        if right:
            mask[..., :, width - 1 - step] *= weight
    return mask


# --- latent files ------------------------------------------------------------------------------------------

# Older .latent files stored latents multiplied by SD1's scale factor and lack the version marker tensor.
_LEGACY_LATENT_SCALE = 0.18215


def save_latent_file(path: str, samples: torch.Tensor, metadata: dict[str, str] | None) -> None:
    """Write a `.latent` file: safetensors with `latent_tensor` and an empty `latent_format_version_0`."""
    from safetensors.torch import save_file

    tensors = {"latent_tensor": samples.contiguous(), "latent_format_version_0": torch.tensor([])}
    with whole_file(path) as partial:
        save_file(tensors, partial, metadata=metadata)


def load_latent_file(path: str) -> torch.Tensor:
    """Read the latent batch of a `.latent` file as float32 (undoing the old format's scaling)."""
    from safetensors.torch import load_file

    tensors = load_file(path, device="cpu")
    multiplier = 1.0 if "latent_format_version_0" in tensors else 1.0 / _LEGACY_LATENT_SCALE
    return tensors["latent_tensor"].float() * multiplier
