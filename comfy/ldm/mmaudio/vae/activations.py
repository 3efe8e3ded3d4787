"""ComfyUI's `comfy.ldm.mmaudio.vae.activations`, as faces: Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules)"

Snake = unsupported_class(__name__, 'Snake', 'in_features, alpha=, alpha_trainable=, alpha_logscale=', _REASON)
SnakeBeta = unsupported_class(__name__, 'SnakeBeta', 'in_features, alpha=, alpha_trainable=, alpha_logscale=', _REASON)
