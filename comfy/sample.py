"""The sampling entry points nodes call: initial noise, and `sample` / `sample_custom` on a model patcher.

Latents go in and come out in VAE space, on the intermediate device (the CPU).
"""

from __future__ import annotations

import numpy as np
import torch

import comfy.model_management
import comfy.samplers
import comfy.utils


def prepare_noise(latent_image: torch.Tensor, seed: int, noise_inds=None) -> torch.Tensor:
    """Unit Gaussian noise shaped like `latent_image`, as ComfyUI draws it: the global CPU generator is reseeded
    with `seed` (only its low 32 bits matter) and the whole batch is one `randn` call.

    With `noise_inds` (a latent's `batch_index`), one `[1, C, H, W]` draw is made per index 0..max(index) in
    order and the draws are picked by index, so a latent keeps its noise when taken out of a batch."""
    generator = torch.manual_seed(seed)
    if noise_inds is None:
        return torch.randn(latent_image.size(), dtype=latent_image.dtype, layout=latent_image.layout,
                           generator=generator, device="cpu")
    unique_inds, inverse = np.unique(noise_inds, return_inverse=True)
    kept = []
    for i in range(unique_inds[-1] + 1):
        noise = torch.randn([1] + list(latent_image.size())[1:], dtype=latent_image.dtype, layout=latent_image.layout,
                            generator=generator, device="cpu")
        if i in unique_inds:
            kept.append(noise)
    return torch.cat([kept[i] for i in np.asarray(inverse).reshape(-1)], dim=0)


def fix_empty_latent_channels(model, latent_image: torch.Tensor) -> torch.Tensor:
    """Widen an all-zero latent to the model's channel count (an empty 4-channel latent on a 16-channel model);
    add the time axis for 3-D latent formats."""
    latent_format = model.model.latent_format
    if latent_format.latent_channels != latent_image.shape[1] and torch.count_nonzero(latent_image) == 0:
        latent_image = comfy.utils.repeat_to_batch_size(latent_image, latent_format.latent_channels, dim=1)
    if getattr(latent_format, "latent_dimensions", 2) == 3 and latent_image.ndim == 4:
        latent_image = latent_image.unsqueeze(2)
    return latent_image


def sample(model, noise, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise=1.0,
           disable_noise=False, start_step=None, last_step=None, force_full_denoise=False, noise_mask=None,
           sigmas=None, callback=None, disable_pbar=False, seed=None) -> torch.Tensor:
    """KSampler-node sampling: `steps` of `sampler_name` on the `scheduler` schedule with CFG `cfg`.

    `noise` is unit noise (zeros when the caller disables noise; `disable_noise` itself is unused here, as in
    ComfyUI); `callback(step, x0, x, total_steps)` is called once per step."""
    sampler = comfy.samplers.KSampler(model, steps=steps, device=model.load_device, sampler=sampler_name,
                                      scheduler=scheduler, denoise=denoise, model_options=model.model_options)
    samples = sampler.sample(noise, positive, negative, cfg=cfg, latent_image=latent_image, start_step=start_step,
                             last_step=last_step, force_full_denoise=force_full_denoise, denoise_mask=noise_mask,
                             sigmas=sigmas, callback=callback, disable_pbar=disable_pbar, seed=seed)
    return samples.to(comfy.model_management.intermediate_device())


def sample_custom(model, noise, cfg, sampler, sigmas, positive, negative, latent_image, noise_mask=None,
                  callback=None, disable_pbar=False, seed=None) -> torch.Tensor:
    """SamplerCustom sampling: an explicit sampler object (`comfy.samplers.KSAMPLER`) and sigma schedule."""
    samples = comfy.samplers.sample(model, noise, positive, negative, cfg, model.load_device, sampler, sigmas,
                                    model_options=model.model_options, latent_image=latent_image,
                                    denoise_mask=noise_mask, callback=callback, disable_pbar=disable_pbar, seed=seed)
    return samples.to(comfy.model_management.intermediate_device())


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "deprecated in ComfyUI"


from comfy.sampler_helpers import cleanup_additional_models  # noqa: E402, F401 - ComfyUI's public name here

prepare_sampling = unsupported_function(__name__, 'prepare_sampling', 'model, noise_shape, positive, negative, noise_mask', "deprecated in ComfyUI; use comfy.sampler_helpers.prepare_sampling(model, noise_shape, conds)")
