"""ComfyUI's `comfy.ldm.hunyuan_video.vae`, as faces: Kiln does not carry ComfyUI's `hunyuan_video` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `hunyuan_video` network code (Kiln's models are diffusers modules)"

Decoder = unsupported_class(__name__, 'Decoder', 'z_channels, out_channels, block_out_channels, num_res_blocks, ffactor_spatial, upsample_match_channel=, **_', _REASON)
Encoder = unsupported_class(__name__, 'Encoder', 'in_channels, z_channels, block_out_channels, num_res_blocks, ffactor_spatial, downsample_match_channel=, **_', _REASON)
PixelShuffle2D = unsupported_class(__name__, 'PixelShuffle2D', 'in_dim, out_dim, op=', _REASON)
PixelUnshuffle2D = unsupported_class(__name__, 'PixelUnshuffle2D', 'in_dim, out_dim, op=', _REASON)
ops = comfy.ops.disable_weight_init
