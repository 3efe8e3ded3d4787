"""ComfyUI's `comfy.ldm.mmaudio.vae.vae_modules`, as faces: Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules)"

AttnBlock1D = unsupported_class(__name__, 'AttnBlock1D', 'in_channels, num_heads=', _REASON)
Downsample1D = unsupported_class(__name__, 'Downsample1D', 'in_channels, with_conv', _REASON)
ResnetBlock1D = unsupported_class(__name__, 'ResnetBlock1D', '*, in_dim, out_dim=, conv_shortcut=, kernel_size=, use_norm=', _REASON)
Upsample1D = unsupported_class(__name__, 'Upsample1D', 'in_channels, with_conv', _REASON)
mp_sum = unsupported_function(__name__, 'mp_sum', 'a, b, t=', _REASON)
nonlinearity = unsupported_function(__name__, 'nonlinearity', 'x', _REASON)
normalize = unsupported_function(__name__, 'normalize', 'x, dim=, eps=', _REASON)
ops = comfy.ops.disable_weight_init
