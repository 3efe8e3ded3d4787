"""ComfyUI's `comfy.ldm.ace.vae.autoencoder_dc`, as faces: Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules)"

AutoencoderDC = unsupported_class(__name__, 'AutoencoderDC', 'in_channels=, latent_channels=, attention_head_dim=, encoder_block_types=, decoder_block_types=, encoder_block_out_channels=, decoder_block_out_channels=, encoder_layers_per_block=, decoder_layers_per_block=, encoder_qkv_multiscales=, decoder_qkv_multiscales=, upsample_block_type=, downsample_block_type=, decoder_norm_types=, decoder_act_fns=, scaling_factor=', _REASON)
DCDownBlock2d = unsupported_class(__name__, 'DCDownBlock2d', 'in_channels, out_channels, downsample=, shortcut=', _REASON)
DCUpBlock2d = unsupported_class(__name__, 'DCUpBlock2d', 'in_channels, out_channels, interpolate=, shortcut=, interpolation_mode=', _REASON)
Decoder = unsupported_class(__name__, 'Decoder', 'in_channels, latent_channels, attention_head_dim=, block_type=, block_out_channels=, layers_per_block=, qkv_multiscales=, norm_type=, act_fn=, upsample_block_type=, in_shortcut=', _REASON)
EfficientViTBlock = unsupported_class(__name__, 'EfficientViTBlock', 'in_channels, mult=, attention_head_dim=, qkv_multiscales=, norm_type=', _REASON)
Encoder = unsupported_class(__name__, 'Encoder', 'in_channels, latent_channels, attention_head_dim=, block_type=, block_out_channels=, layers_per_block=, qkv_multiscales=, downsample_block_type=, out_shortcut=', _REASON)
GLUMBConv = unsupported_class(__name__, 'GLUMBConv', 'in_channels, out_channels, expand_ratio=, norm_type=, residual_connection=', _REASON)
RMSNorm = unsupported_class(__name__, 'RMSNorm', 'dim, eps=, elementwise_affine=, bias=', _REASON)
ResBlock = unsupported_class(__name__, 'ResBlock', 'in_channels, out_channels, norm_type=, act_fn=', _REASON)
SanaMultiscaleAttentionProjection = unsupported_class(__name__, 'SanaMultiscaleAttentionProjection', 'in_channels, num_attention_heads, kernel_size', _REASON)
SanaMultiscaleLinearAttention = unsupported_class(__name__, 'SanaMultiscaleLinearAttention', 'in_channels, out_channels, num_attention_heads=, attention_head_dim=, mult=, norm_type=, kernel_sizes=, eps=, residual_connection=', _REASON)
get_activation = unsupported_function(__name__, 'get_activation', 'activation_type', _REASON)
get_block = unsupported_function(__name__, 'get_block', 'block_type, in_channels, out_channels, attention_head_dim, norm_type, act_fn, qkv_mutliscales=', _REASON)
get_normalization = unsupported_function(__name__, 'get_normalization', 'norm_type, num_features, num_groups=, eps=', _REASON)
ops = comfy.ops.disable_weight_init
