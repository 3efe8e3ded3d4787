"""ComfyUI's `comfy.ldm.lightricks.vae.conv_nd_factory`, as faces: Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_function

_REASON = "Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules)"

make_conv_nd = unsupported_function(__name__, 'make_conv_nd', 'dims, in_channels, out_channels, kernel_size, stride=, padding=, dilation=, groups=, bias=, causal=, spatial_padding_mode=, temporal_padding_mode=', _REASON)
make_linear_nd = unsupported_function(__name__, 'make_linear_nd', 'dims, in_channels, out_channels, bias=', _REASON)
ops = comfy.ops.disable_weight_init
