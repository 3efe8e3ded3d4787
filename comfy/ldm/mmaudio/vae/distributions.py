"""ComfyUI's `comfy.ldm.mmaudio.vae.distributions`, as faces: Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules)"

AbstractDistribution = unsupported_class(__name__, 'AbstractDistribution', None, _REASON)
DiagonalGaussianDistribution = unsupported_class(__name__, 'DiagonalGaussianDistribution', 'parameters, deterministic=', _REASON)
DiracDistribution = unsupported_class(__name__, 'DiracDistribution', 'value', _REASON)
normal_kl = unsupported_function(__name__, 'normal_kl', 'mean1, logvar1, mean2, logvar2', _REASON)
