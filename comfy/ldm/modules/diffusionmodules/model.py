"""ComfyUI's `comfy.ldm.modules.diffusionmodules.model`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

AttnBlock = unsupported_class(__name__, 'AttnBlock', 'in_channels, conv_op=, norm_op=', _REASON)
Decoder = unsupported_class(__name__, 'Decoder', '*, ch, out_ch, ch_mult=, num_res_blocks, attn_resolutions, dropout=, resamp_with_conv=, in_channels, resolution, z_channels, give_pre_end=, tanh_out=, use_linear_attn=, conv_out_op=, resnet_op=, attn_op=, conv3d=, time_compress=, **ignorekwargs', _REASON)
Downsample = unsupported_class(__name__, 'Downsample', 'in_channels, with_conv, stride=, conv_op=', _REASON)
Encoder = unsupported_class(__name__, 'Encoder', '*, ch, out_ch, ch_mult=, num_res_blocks, attn_resolutions, dropout=, resamp_with_conv=, in_channels, resolution, z_channels, double_z=, use_linear_attn=, attn_type=, conv3d=, time_compress=, **ignore_kwargs', _REASON)
Model = unsupported_class(__name__, 'Model', '*, ch, out_ch, ch_mult=, num_res_blocks, attn_resolutions, dropout=, resamp_with_conv=, in_channels, resolution, use_timestep=, use_linear_attn=, attn_type=', _REASON)
Normalize = unsupported_function(__name__, 'Normalize', 'in_channels, num_groups=', _REASON)
ResnetBlock = unsupported_class(__name__, 'ResnetBlock', '*, in_channels, out_channels=, conv_shortcut=, dropout=, temb_channels=, conv_op=, norm_op=', _REASON)
Upsample = unsupported_class(__name__, 'Upsample', 'in_channels, with_conv, conv_op=, scale_factor=', _REASON)
VideoConv3d = unsupported_class(__name__, 'VideoConv3d', 'n_channels, out_channels, kernel_size, stride=, dilation=, padding_mode=, padding=, **kwargs', _REASON)
get_timestep_embedding = unsupported_function(__name__, 'get_timestep_embedding', 'timesteps, embedding_dim', _REASON)
interpolate_up = unsupported_function(__name__, 'interpolate_up', 'x, scale_factor', _REASON)
make_attn = unsupported_function(__name__, 'make_attn', 'in_channels, attn_type=, attn_kwargs=, conv_op=', _REASON)
nonlinearity = unsupported_function(__name__, 'nonlinearity', 'x', _REASON)
normal_attention = unsupported_function(__name__, 'normal_attention', 'q, k, v', _REASON)
ops = comfy.ops.disable_weight_init
pytorch_attention = unsupported_function(__name__, 'pytorch_attention', 'q, k, v', _REASON)
slice_attention = unsupported_function(__name__, 'slice_attention', 'q, k, v', _REASON)
vae_attention = unsupported_function(__name__, 'vae_attention', '', _REASON)
xformers_attention = unsupported_function(__name__, 'xformers_attention', 'q, k, v', _REASON)
