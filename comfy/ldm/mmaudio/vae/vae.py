"""ComfyUI's `comfy.ldm.mmaudio.vae.vae`, as faces: Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules)"

DATA_MEAN_128D = UnsupportedValue(__name__, 'DATA_MEAN_128D', _REASON)
DATA_MEAN_80D = UnsupportedValue(__name__, 'DATA_MEAN_80D', _REASON)
DATA_STD_128D = UnsupportedValue(__name__, 'DATA_STD_128D', _REASON)
DATA_STD_80D = UnsupportedValue(__name__, 'DATA_STD_80D', _REASON)
Decoder1D = unsupported_class(__name__, 'Decoder1D', '*, dim, out_dim, ch_mult=, num_res_blocks, attn_layers=, down_layers=, kernel_size=, resamp_with_conv=, in_dim, embed_dim, clip_act=', _REASON)
Encoder1D = unsupported_class(__name__, 'Encoder1D', '*, dim, ch_mult=, num_res_blocks, attn_layers=, down_layers=, resamp_with_conv=, in_dim, embed_dim, double_z=, kernel_size=, clip_act=', _REASON)
VAE = unsupported_class(__name__, 'VAE', '*, data_dim, embed_dim, hidden_dim', _REASON)
VAE_16k = unsupported_function(__name__, 'VAE_16k', '**kwargs', _REASON)
VAE_44k = unsupported_function(__name__, 'VAE_44k', '**kwargs', _REASON)
get_my_vae = unsupported_function(__name__, 'get_my_vae', 'name, **kwargs', _REASON)
log = UnsupportedValue(__name__, 'log', _REASON)
ops = comfy.ops.disable_weight_init
