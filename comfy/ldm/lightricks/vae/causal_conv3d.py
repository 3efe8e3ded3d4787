"""ComfyUI's `comfy.ldm.lightricks.vae.causal_conv3d`, as faces: Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules)"

CausalConv3d = unsupported_class(__name__, 'CausalConv3d', 'in_channels, out_channels, kernel_size=, stride=, dilation=, groups=, spatial_padding_mode=, **kwargs', _REASON)
ops = comfy.ops.disable_weight_init
