"""ComfyUI's `comfy.t2i_adapter.adapter`, as faces: Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks"

Adapter = unsupported_class(__name__, 'Adapter', 'channels=, nums_rb=, cin=, ksize=, sk=, use_conv=, xl=', _REASON)
Adapter_light = unsupported_class(__name__, 'Adapter_light', 'channels=, nums_rb=, cin=', _REASON)
Downsample = unsupported_class(__name__, 'Downsample', 'channels, use_conv, dims=, out_channels=, padding=', _REASON)
LayerNorm = unsupported_class(__name__, 'LayerNorm', None, _REASON)
QuickGELU = unsupported_class(__name__, 'QuickGELU', None, _REASON)
ResidualAttentionBlock = unsupported_class(__name__, 'ResidualAttentionBlock', 'd_model, n_head, attn_mask=', _REASON)
ResnetBlock = unsupported_class(__name__, 'ResnetBlock', 'in_c, out_c, down, ksize=, sk=, use_conv=', _REASON)
ResnetBlock_light = unsupported_class(__name__, 'ResnetBlock_light', 'in_c', _REASON)
StyleAdapter = unsupported_class(__name__, 'StyleAdapter', 'width=, context_dim=, num_head=, n_layes=, num_token=', _REASON)
avg_pool_nd = unsupported_function(__name__, 'avg_pool_nd', 'dims, *args, **kwargs', _REASON)
conv_nd = unsupported_function(__name__, 'conv_nd', 'dims, *args, **kwargs', _REASON)
extractor = unsupported_class(__name__, 'extractor', 'in_c, inter_c, out_c, nums_rb, down=', _REASON)
