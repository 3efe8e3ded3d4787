"""Tensor helpers shared by the samplers, and ComfyUI's `FolderOfImages` dataset (k-diffusion's training
utilities otherwise are faces)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.utils.data
from PIL import Image


def append_dims(x: torch.Tensor, target_dims: int) -> torch.Tensor:
    """Append trailing singleton dimensions to `x` until it has `target_dims` dimensions."""
    dims_to_append = target_dims - x.ndim
    if dims_to_append < 0:
        raise ValueError(f"input has {x.ndim} dims but target_dims is {target_dims}, which is less")
    return x[(...,) + (None,) * dims_to_append]


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "k-diffusion's training utilities are not part of Kiln"

CSVLogger = unsupported_class(__name__, 'CSVLogger', 'filename, columns', _REASON)
EMAWarmup = unsupported_class(__name__, 'EMAWarmup', 'inv_gamma=, power=, min_value=, max_value=, start_at=, last_epoch=', _REASON)
ExponentialLR = unsupported_class(__name__, 'ExponentialLR', 'optimizer, num_steps, decay=, warmup=, min_lr=, last_epoch=, verbose=', _REASON)
InverseLR = unsupported_class(__name__, 'InverseLR', 'optimizer, inv_gamma=, power=, warmup=, min_lr=, last_epoch=, verbose=', _REASON)
download_file = unsupported_function(__name__, 'download_file', 'path, url, digest=', _REASON)
ema_update = unsupported_function(__name__, 'ema_update', 'model, averaged_model, decay', _REASON)
eval_mode = unsupported_function(__name__, 'eval_mode', 'model', _REASON)
hf_datasets_augs_helper = unsupported_function(__name__, 'hf_datasets_augs_helper', 'examples, transform, image_key, mode=', _REASON)
n_params = unsupported_function(__name__, 'n_params', 'module', _REASON)
rand_log_logistic = unsupported_function(__name__, 'rand_log_logistic', 'shape, loc=, scale=, min_value=, max_value=, device=, dtype=', _REASON)
rand_log_normal = unsupported_function(__name__, 'rand_log_normal', 'shape, loc=, scale=, device=, dtype=', _REASON)
rand_log_uniform = unsupported_function(__name__, 'rand_log_uniform', 'shape, min_value, max_value, device=, dtype=', _REASON)
rand_split_log_normal = unsupported_function(__name__, 'rand_split_log_normal', 'shape, loc, scale_1, scale_2, device=, dtype=', _REASON)
rand_v_diffusion = unsupported_function(__name__, 'rand_v_diffusion', 'shape, sigma_data=, min_value=, max_value=, device=, dtype=', _REASON)
tf32_mode = unsupported_function(__name__, 'tf32_mode', 'cudnn=, matmul=', _REASON)
train_mode = unsupported_function(__name__, 'train_mode', 'model, mode=', _REASON)


class FolderOfImages(torch.utils.data.Dataset):
    """Every image file under `root` (searched recursively, by extension, in sorted path order) as a dataset of
    1-tuples `(transform(image),)`, the image opened as RGB with PIL; `transform` defaults to the identity."""

    IMG_EXTENSIONS = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

    def __init__(self, root: str | os.PathLike, transform: Any = None):
        super().__init__()
        self.root = Path(root)
        self.transform = transform if transform is not None else (lambda image: image)
        self.paths = sorted(path for path in self.root.rglob("*") if path.suffix.lower() in self.IMG_EXTENSIONS)

    def __repr__(self) -> str:
        return f'FolderOfImages(root="{self.root}", len: {len(self)})'

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key: int) -> tuple:
        with Image.open(self.paths[key]) as image:
            return (self.transform(image.convert("RGB")),)
