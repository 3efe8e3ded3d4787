"""ComfyUI's `comfy.ldm.wan.vae`, as faces: Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules)"

AttentionBlock = unsupported_class(__name__, 'AttentionBlock', 'dim', _REASON)
CACHE_T = UnsupportedValue(__name__, 'CACHE_T', _REASON)
CausalConv3d = unsupported_class(__name__, 'CausalConv3d', '*args, **kwargs', _REASON)
Decoder3d = unsupported_class(__name__, 'Decoder3d', 'dim=, z_dim=, dim_mult=, num_res_blocks=, attn_scales=, temperal_upsample=, dropout=', _REASON)
Encoder3d = unsupported_class(__name__, 'Encoder3d', 'dim=, z_dim=, dim_mult=, num_res_blocks=, attn_scales=, temperal_downsample=, dropout=', _REASON)
RMS_norm = unsupported_class(__name__, 'RMS_norm', 'dim, channel_first=, images=, bias=', _REASON)
Resample = unsupported_class(__name__, 'Resample', 'dim, mode', _REASON)
ResidualBlock = unsupported_class(__name__, 'ResidualBlock', 'in_dim, out_dim, dropout=', _REASON)
WanVAE = unsupported_class(__name__, 'WanVAE', 'dim=, z_dim=, dim_mult=, num_res_blocks=, attn_scales=, temperal_downsample=, dropout=', _REASON)
count_conv3d = unsupported_function(__name__, 'count_conv3d', 'model', _REASON)
ops = comfy.ops.disable_weight_init
