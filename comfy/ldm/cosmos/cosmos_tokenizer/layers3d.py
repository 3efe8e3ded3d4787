"""ComfyUI's `comfy.ldm.cosmos.cosmos_tokenizer.layers3d`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

CausalAttnBlock = unsupported_class(__name__, 'CausalAttnBlock', 'in_channels, num_groups', _REASON)
CausalConv3d = unsupported_class(__name__, 'CausalConv3d', 'chan_in=, chan_out=, kernel_size=, pad_mode=, **kwargs', _REASON)
CausalDownsample3d = unsupported_class(__name__, 'CausalDownsample3d', 'in_channels', _REASON)
CausalHybridDownsample3d = unsupported_class(__name__, 'CausalHybridDownsample3d', 'in_channels, spatial_down=, temporal_down=, **kwargs', _REASON)
CausalHybridUpsample3d = unsupported_class(__name__, 'CausalHybridUpsample3d', 'in_channels, spatial_up=, temporal_up=, **kwargs', _REASON)
CausalResnetBlock3d = unsupported_class(__name__, 'CausalResnetBlock3d', '*, in_channels, out_channels=, dropout, num_groups', _REASON)
CausalResnetBlockFactorized3d = unsupported_class(__name__, 'CausalResnetBlockFactorized3d', '*, in_channels, out_channels=, dropout, num_groups', _REASON)
CausalTemporalAttnBlock = unsupported_class(__name__, 'CausalTemporalAttnBlock', 'in_channels, num_groups', _REASON)
CausalUpsample3d = unsupported_class(__name__, 'CausalUpsample3d', 'in_channels', _REASON)
DecoderBase = unsupported_class(__name__, 'DecoderBase', 'out_channels, channels, channels_mult, num_res_blocks, attn_resolutions, dropout, resolution, z_channels, **ignore_kwargs', _REASON)
DecoderFactorized = unsupported_class(__name__, 'DecoderFactorized', 'out_channels, channels, channels_mult, num_res_blocks, attn_resolutions, dropout, resolution, z_channels, spatial_compression=, temporal_compression=, **ignore_kwargs', _REASON)
EncoderBase = unsupported_class(__name__, 'EncoderBase', 'in_channels, channels, channels_mult, num_res_blocks, attn_resolutions, dropout, resolution, z_channels, **ignore_kwargs', _REASON)
EncoderFactorized = unsupported_class(__name__, 'EncoderFactorized', 'in_channels, channels, channels_mult, num_res_blocks, attn_resolutions, dropout, resolution, z_channels, spatial_compression=, temporal_compression=, **ignore_kwargs', _REASON)
ops = comfy.ops.disable_weight_init
