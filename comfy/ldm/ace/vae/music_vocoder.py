"""ComfyUI's `comfy.ldm.ace.vae.music_vocoder`, as faces: Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules)"

ADaMoSHiFiGANV1 = unsupported_class(__name__, 'ADaMoSHiFiGANV1', 'input_channels=, depths=, dims=, drop_path_rate=, kernel_sizes=, upsample_rates=, upsample_kernel_sizes=, resblock_kernel_sizes=, resblock_dilation_sizes=, num_mels=, upsample_initial_channel=, use_template=, pre_conv_kernel_size=, post_conv_kernel_size=, sampling_rate=, n_fft=, win_length=, hop_length=, f_min=, f_max=, n_mels=', _REASON)
ConvNeXtBlock = unsupported_class(__name__, 'ConvNeXtBlock', 'dim, drop_path=, layer_scale_init_value=, mlp_ratio=, kernel_size=, dilation=', _REASON)
ConvNeXtEncoder = unsupported_class(__name__, 'ConvNeXtEncoder', 'input_channels=, depths=, dims=, drop_path_rate=, layer_scale_init_value=, kernel_sizes=', _REASON)
DropPath = unsupported_class(__name__, 'DropPath', 'drop_prob=, scale_by_keep=', _REASON)
HiFiGANGenerator = unsupported_class(__name__, 'HiFiGANGenerator', '*, hop_length=, upsample_rates=, upsample_kernel_sizes=, resblock_kernel_sizes=, resblock_dilation_sizes=, num_mels=, upsample_initial_channel=, use_template=, pre_conv_kernel_size=, post_conv_kernel_size=, post_activation=', _REASON)
LayerNorm = unsupported_class(__name__, 'LayerNorm', 'normalized_shape, eps=, data_format=', _REASON)
ParallelConvNeXtBlock = unsupported_class(__name__, 'ParallelConvNeXtBlock', 'kernel_sizes, *args, **kwargs', _REASON)
ResBlock1 = unsupported_class(__name__, 'ResBlock1', 'channels, kernel_size=, dilation=', _REASON)
drop_path = unsupported_function(__name__, 'drop_path', 'x, drop_prob=, training=, scale_by_keep=', _REASON)
get_padding = unsupported_function(__name__, 'get_padding', 'kernel_size, dilation=', _REASON)
ops = comfy.ops.disable_weight_init
