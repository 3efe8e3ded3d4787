"""ComfyUI's `comfy.ldm.hunyuan_video.vae_refiner`, as faces: Kiln does not carry ComfyUI's `hunyuan_video` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `hunyuan_video` network code (Kiln's models are diffusers modules)"

Decoder = unsupported_class(__name__, 'Decoder', 'z_channels, out_channels, block_out_channels, num_res_blocks, ffactor_spatial, ffactor_temporal, upsample_match_channel=, refiner_vae=, **_', _REASON)
DnSmpl = unsupported_class(__name__, 'DnSmpl', 'ic, oc, tds=, refiner_vae=, op=', _REASON)
Encoder = unsupported_class(__name__, 'Encoder', 'in_channels, z_channels, block_out_channels, num_res_blocks, ffactor_spatial, ffactor_temporal, downsample_match_channel=, refiner_vae=, **_', _REASON)
RMS_norm = unsupported_class(__name__, 'RMS_norm', 'dim', _REASON)
UpSmpl = unsupported_class(__name__, 'UpSmpl', 'ic, oc, tus=, refiner_vae=, op=', _REASON)
ops = comfy.ops.disable_weight_init
