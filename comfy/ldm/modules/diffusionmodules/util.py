"""ComfyUI's `comfy.ldm.modules.diffusionmodules.util`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

AlphaBlender = unsupported_class(__name__, 'AlphaBlender', 'alpha, merge_strategy=, rearrange_pattern=', _REASON)
CheckpointFunction = unsupported_class(__name__, 'CheckpointFunction', None, _REASON)
HybridConditioner = unsupported_class(__name__, 'HybridConditioner', 'c_concat_config, c_crossattn_config', _REASON)
avg_pool_nd = unsupported_function(__name__, 'avg_pool_nd', 'dims, *args, **kwargs', _REASON)
betas_for_alpha_bar = unsupported_function(__name__, 'betas_for_alpha_bar', 'num_diffusion_timesteps, alpha_bar, max_beta=', _REASON)
checkpoint = unsupported_function(__name__, 'checkpoint', 'func, inputs, params, flag', _REASON)
extract_into_tensor = unsupported_function(__name__, 'extract_into_tensor', 'a, t, x_shape', _REASON)
from comfy.model_sampling import make_beta_schedule  # noqa: E402, F401 - ComfyUI's public name here

make_ddim_sampling_parameters = unsupported_function(__name__, 'make_ddim_sampling_parameters', 'alphacums, ddim_timesteps, eta, verbose=', _REASON)
make_ddim_timesteps = unsupported_function(__name__, 'make_ddim_timesteps', 'ddim_discr_method, num_ddim_timesteps, num_ddpm_timesteps, verbose=', _REASON)
mean_flat = unsupported_function(__name__, 'mean_flat', 'tensor', _REASON)
noise_like = unsupported_function(__name__, 'noise_like', 'shape, device, repeat=', _REASON)
scale_module = unsupported_function(__name__, 'scale_module', 'module, scale', _REASON)
timestep_embedding = unsupported_function(__name__, 'timestep_embedding', 'timesteps, dim, max_period=, repeat_only=', _REASON)
zero_module = unsupported_function(__name__, 'zero_module', 'module', _REASON)
