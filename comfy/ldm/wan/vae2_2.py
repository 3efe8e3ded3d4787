"""ComfyUI's `comfy.ldm.wan.vae2_2`, as faces: Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules)"

AvgDown3D = unsupported_class(__name__, 'AvgDown3D', 'in_channels, out_channels, factor_t, factor_s=', _REASON)
CACHE_T = UnsupportedValue(__name__, 'CACHE_T', _REASON)
Decoder3d = unsupported_class(__name__, 'Decoder3d', 'dim=, z_dim=, dim_mult=, num_res_blocks=, attn_scales=, temperal_upsample=, dropout=', _REASON)
Down_ResidualBlock = unsupported_class(__name__, 'Down_ResidualBlock', 'in_dim, out_dim, dropout, mult, temperal_downsample=, down_flag=', _REASON)
DupUp3D = unsupported_class(__name__, 'DupUp3D', 'in_channels, out_channels, factor_t, factor_s=', _REASON)
Encoder3d = unsupported_class(__name__, 'Encoder3d', 'dim=, z_dim=, dim_mult=, num_res_blocks=, attn_scales=, temperal_downsample=, dropout=', _REASON)
Resample = unsupported_class(__name__, 'Resample', 'dim, mode', _REASON)
ResidualBlock = unsupported_class(__name__, 'ResidualBlock', 'in_dim, out_dim, dropout=', _REASON)
Up_ResidualBlock = unsupported_class(__name__, 'Up_ResidualBlock', 'in_dim, out_dim, dropout, mult, temperal_upsample=, up_flag=', _REASON)
WanVAE = unsupported_class(__name__, 'WanVAE', 'dim=, dec_dim=, z_dim=, dim_mult=, num_res_blocks=, attn_scales=, temperal_downsample=, dropout=', _REASON)
count_conv3d = unsupported_function(__name__, 'count_conv3d', 'model', _REASON)
ops = comfy.ops.disable_weight_init
patchify = unsupported_function(__name__, 'patchify', 'x, patch_size', _REASON)
unpatchify = unsupported_function(__name__, 'unpatchify', 'x, patch_size', _REASON)
