"""Tensor helpers shared by the samplers."""

from __future__ import annotations

import torch


def append_dims(x: torch.Tensor, target_dims: int) -> torch.Tensor:
    """Append trailing singleton dimensions to `x` until it has `target_dims` dimensions."""
    dims_to_append = target_dims - x.ndim
    if dims_to_append < 0:
        raise ValueError(f"input has {x.ndim} dims but target_dims is {target_dims}, which is less")
    return x[(...,) + (None,) * dims_to_append]


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = 'Kiln has no equivalent of this ComfyUI internal'

CSVLogger = unsupported_class(__name__, 'CSVLogger', 'filename, columns', _REASON)
EMAWarmup = unsupported_class(__name__, 'EMAWarmup', 'inv_gamma=, power=, min_value=, max_value=, start_at=, last_epoch=', _REASON)
ExponentialLR = unsupported_class(__name__, 'ExponentialLR', 'optimizer, num_steps, decay=, warmup=, min_lr=, last_epoch=, verbose=', _REASON)
FolderOfImages = unsupported_class(__name__, 'FolderOfImages', 'root, transform=', _REASON)
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
