"""ComfyUI's `comfy.ldm.wan.model_animate`, as faces: Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules)"

AnimateWanModel = unsupported_class(__name__, 'AnimateWanModel', 'model_type=, patch_size=, text_len=, in_dim=, dim=, ffn_dim=, freq_dim=, text_dim=, out_dim=, num_heads=, num_layers=, window_size=, qk_norm=, cross_attn_norm=, eps=, flf_pos_embed_token_number=, motion_encoder_dim=, image_model=, device=, dtype=, operations=', _REASON)
Blur = unsupported_class(__name__, 'Blur', 'kernel, pad, dtype=, device=', _REASON)
CausalConv1d = unsupported_class(__name__, 'CausalConv1d', 'chan_in, chan_out, kernel_size=, stride=, dilation=, pad_mode=, operations=, **kwargs', _REASON)
ConvLayer = unsupported_class(__name__, 'ConvLayer', 'in_channel, out_channel, kernel_size, downsample=, blur_kernel=, bias=, activate=, dtype=, device=, operations=', _REASON)
Direction = unsupported_class(__name__, 'Direction', 'motion_dim, dtype=, device=, operations=', _REASON)
Encoder = unsupported_class(__name__, 'Encoder', 'dim=, motion_dim=, dtype=, device=, operations=', _REASON)
EncoderApp = unsupported_class(__name__, 'EncoderApp', 'w_dim=, dtype=, device=, operations=', _REASON)
EqualConv2d = unsupported_class(__name__, 'EqualConv2d', 'in_channel, out_channel, kernel_size, stride=, padding=, bias=, dtype=, device=, operations=', _REASON)
EqualLinear = unsupported_class(__name__, 'EqualLinear', 'in_dim, out_dim, bias=, bias_init=, lr_mul=, activation=, dtype=, device=, operations=', _REASON)
FaceAdapter = unsupported_class(__name__, 'FaceAdapter', 'hidden_dim, heads_num, qk_norm=, qk_norm_type=, num_adapter_layers=, dtype=, device=, operations=', _REASON)
FaceBlock = unsupported_class(__name__, 'FaceBlock', 'hidden_size, heads_num, qk_norm=, qk_norm_type=, qk_scale=, dtype=, device=, operations=', _REASON)
FaceEncoder = unsupported_class(__name__, 'FaceEncoder', 'in_dim, hidden_dim, num_heads=, dtype=, device=, operations=', _REASON)
FusedLeakyReLU = unsupported_class(__name__, 'FusedLeakyReLU', 'channel, negative_slope=, scale=, dtype=, device=', _REASON)
Generator = unsupported_class(__name__, 'Generator', 'style_dim=, motion_dim=, dtype=, device=, operations=', _REASON)
ResBlock = unsupported_class(__name__, 'ResBlock', 'in_channel, out_channel, dtype=, device=, operations=', _REASON)
ScaledLeakyReLU = unsupported_class(__name__, 'ScaledLeakyReLU', 'negative_slope=', _REASON)
Synthesis = unsupported_class(__name__, 'Synthesis', 'motion_dim, dtype=, device=, operations=', _REASON)
fused_leaky_relu = unsupported_function(__name__, 'fused_leaky_relu', 'input, bias, negative_slope=, scale=', _REASON)
get_norm_layer = unsupported_function(__name__, 'get_norm_layer', 'norm_layer, operations=', _REASON)
upfirdn2d = unsupported_function(__name__, 'upfirdn2d', 'input, kernel, up=, down=, pad=', _REASON)
upfirdn2d_native = unsupported_function(__name__, 'upfirdn2d_native', 'input, kernel, up_x, up_y, down_x, down_y, pad_x0, pad_x1, pad_y0, pad_y1', _REASON)
