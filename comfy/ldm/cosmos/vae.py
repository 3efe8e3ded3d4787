"""ComfyUI's `comfy.ldm.cosmos.vae`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

CausalContinuousVideoTokenizer = unsupported_class(__name__, 'CausalContinuousVideoTokenizer', 'z_channels, z_factor, latent_channels, **kwargs', _REASON)
ContinuousFormulation = unsupported_class(__name__, 'ContinuousFormulation', None, _REASON)
GaussianDistribution = unsupported_class(__name__, 'GaussianDistribution', 'min_logvar=, max_logvar=', _REASON)
IdentityDistribution = unsupported_class(__name__, 'IdentityDistribution', '', _REASON)
