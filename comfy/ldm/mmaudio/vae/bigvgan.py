"""ComfyUI's `comfy.ldm.mmaudio.vae.bigvgan`, as faces: Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules)"

AMPBlock1 = unsupported_class(__name__, 'AMPBlock1', 'h, channels, kernel_size=, dilation=, activation=', _REASON)
AMPBlock2 = unsupported_class(__name__, 'AMPBlock2', 'h, channels, kernel_size=, dilation=, activation=', _REASON)
BigVGANVocoder = unsupported_class(__name__, 'BigVGANVocoder', 'h', _REASON)
get_padding = unsupported_function(__name__, 'get_padding', 'kernel_size, dilation=', _REASON)
ops = comfy.ops.disable_weight_init
