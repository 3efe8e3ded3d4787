"""ComfyUI's `comfy.ldm.audio.autoencoder`, as faces: Kiln does not carry ComfyUI's `audio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `audio` network code (Kiln's models are diffusers modules)"

AudioOobleckVAE = unsupported_class(__name__, 'AudioOobleckVAE', 'in_channels=, channels=, latent_dim=, c_mults=, strides=, use_snake=, antialias_activation=, use_nearest_upsample=, final_tanh=', _REASON)
DecoderBlock = unsupported_class(__name__, 'DecoderBlock', 'in_channels, out_channels, stride, use_snake=, antialias_activation=, use_nearest_upsample=', _REASON)
EncoderBlock = unsupported_class(__name__, 'EncoderBlock', 'in_channels, out_channels, stride, use_snake=, antialias_activation=', _REASON)
OobleckDecoder = unsupported_class(__name__, 'OobleckDecoder', 'out_channels=, channels=, latent_dim=, c_mults=, strides=, use_snake=, antialias_activation=, use_nearest_upsample=, final_tanh=', _REASON)
OobleckEncoder = unsupported_class(__name__, 'OobleckEncoder', 'in_channels=, channels=, latent_dim=, c_mults=, strides=, use_snake=, antialias_activation=', _REASON)
ResidualUnit = unsupported_class(__name__, 'ResidualUnit', 'in_channels, out_channels, dilation, use_snake=, antialias_activation=', _REASON)
SnakeBeta = unsupported_class(__name__, 'SnakeBeta', 'in_features, alpha=, alpha_trainable=, alpha_logscale=', _REASON)
VAEBottleneck = unsupported_class(__name__, 'VAEBottleneck', '', _REASON)
WNConv1d = unsupported_function(__name__, 'WNConv1d', '*args, **kwargs', _REASON)
WNConvTranspose1d = unsupported_function(__name__, 'WNConvTranspose1d', '*args, **kwargs', _REASON)
get_activation = unsupported_function(__name__, 'get_activation', 'activation, antialias=, channels=', _REASON)
ops = comfy.ops.disable_weight_init
snake_beta = unsupported_function(__name__, 'snake_beta', 'x, alpha, beta', _REASON)
vae_sample = unsupported_function(__name__, 'vae_sample', 'mean, scale', _REASON)
