"""ComfyUI's `comfy.ldm.lightricks.vae.causal_video_autoencoder`, as faces: Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules)"

Decoder = unsupported_class(__name__, 'Decoder', 'dims, in_channels=, out_channels=, blocks=, base_channels=, layers_per_block=, norm_num_groups=, patch_size=, norm_layer=, causal=, timestep_conditioning=, spatial_padding_mode=', _REASON)
DepthToSpaceUpsample = unsupported_class(__name__, 'DepthToSpaceUpsample', 'dims, in_channels, stride, residual=, out_channels_reduction_factor=, spatial_padding_mode=', _REASON)
Encoder = unsupported_class(__name__, 'Encoder', 'dims=, in_channels=, out_channels=, blocks=, base_channels=, norm_num_groups=, patch_size=, norm_layer=, latent_log_var=, spatial_padding_mode=', _REASON)
LayerNorm = unsupported_class(__name__, 'LayerNorm', 'dim, eps, elementwise_affine=', _REASON)
ResnetBlock3D = unsupported_class(__name__, 'ResnetBlock3D', 'dims, in_channels, out_channels=, dropout=, groups=, eps=, norm_layer=, inject_noise=, timestep_conditioning=, spatial_padding_mode=', _REASON)
SpaceToDepthDownsample = unsupported_class(__name__, 'SpaceToDepthDownsample', 'dims, in_channels, out_channels, stride, spatial_padding_mode', _REASON)
UNetMidBlock3D = unsupported_class(__name__, 'UNetMidBlock3D', 'dims, in_channels, dropout=, num_layers=, resnet_eps=, resnet_groups=, norm_layer=, inject_noise=, timestep_conditioning=, spatial_padding_mode=', _REASON)
VideoVAE = unsupported_class(__name__, 'VideoVAE', 'version=, config=', _REASON)
ops = comfy.ops.disable_weight_init
patchify = unsupported_function(__name__, 'patchify', 'x, patch_size_hw, patch_size_t=', _REASON)
processor = unsupported_class(__name__, 'processor', '', _REASON)
unpatchify = unsupported_function(__name__, 'unpatchify', 'x, patch_size_hw, patch_size_t=', _REASON)
