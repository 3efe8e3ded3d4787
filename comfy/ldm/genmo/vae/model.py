"""ComfyUI's `comfy.ldm.genmo.vae.model`, as faces: Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules)"

Attention = unsupported_class(__name__, 'Attention', 'dim, head_dim=, qkv_bias=, out_bias=, qk_norm=', _REASON)
AttentionBlock = unsupported_class(__name__, 'AttentionBlock', 'dim, **attn_kwargs', _REASON)
CausalUpsampleBlock = unsupported_class(__name__, 'CausalUpsampleBlock', 'in_channels, out_channels, num_res_blocks, *, temporal_expansion=, spatial_expansion=, **block_kwargs', _REASON)
Conv1x1 = unsupported_class(__name__, 'Conv1x1', 'in_features, out_features, *args, **kwargs', _REASON)
Decoder = unsupported_class(__name__, 'Decoder', '*, out_channels=, latent_dim, base_channels, channel_multipliers, num_res_blocks, temporal_expansions=, spatial_expansions=, has_attention, output_norm=, nonlinearity=, output_nonlinearity=, causal=, **block_kwargs', _REASON)
DepthToSpaceTime = unsupported_class(__name__, 'DepthToSpaceTime', 'temporal_expansion, spatial_expansion', _REASON)
DownsampleBlock = unsupported_class(__name__, 'DownsampleBlock', 'in_channels, out_channels, num_res_blocks, *, temporal_reduction=, spatial_reduction=, **block_kwargs', _REASON)
Encoder = unsupported_class(__name__, 'Encoder', '*, in_channels, base_channels, channel_multipliers, num_res_blocks, latent_dim, temporal_reductions, spatial_reductions, prune_bottlenecks, has_attentions, affine=, bias=, input_is_conv_1x1=, padding_mode', _REASON)
FourierFeatures = unsupported_class(__name__, 'FourierFeatures', 'start=, stop=, step=', _REASON)
GroupNormSpatial = unsupported_class(__name__, 'GroupNormSpatial', None, _REASON)
LatentDistribution = unsupported_class(__name__, 'LatentDistribution', 'mean, logvar', _REASON)
PConv3d = unsupported_class(__name__, 'PConv3d', 'in_channels, out_channels, kernel_size, stride, causal=, context_parallel=, **kwargs', _REASON)
ResBlock = unsupported_class(__name__, 'ResBlock', 'channels, *, affine=, attn_block=, causal=, prune_bottleneck=, padding_mode, bias=', _REASON)
VideoVAE = unsupported_class(__name__, 'VideoVAE', '', _REASON)
add_fourier_features = unsupported_function(__name__, 'add_fourier_features', 'inputs, start=, stop=, step=', _REASON)
block_fn = unsupported_function(__name__, 'block_fn', 'channels, *, affine=, has_attention=, **block_kwargs', _REASON)
cast_tuple = unsupported_function(__name__, 'cast_tuple', 't, length=', _REASON)
norm_fn = unsupported_function(__name__, 'norm_fn', 'in_channels, affine=', _REASON)
ops = comfy.ops.disable_weight_init
