"""ComfyUI's `comfy.ldm.ace.attention`, as faces: Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules)"

Attention = unsupported_class(__name__, 'Attention', 'query_dim, cross_attention_dim=, heads=, kv_heads=, dim_head=, dropout=, bias=, qk_norm=, added_kv_proj_dim=, added_proj_bias=, out_bias=, scale_qk=, only_cross_attention=, eps=, rescale_output_factor=, residual_connection=, processor=, out_dim=, out_context_dim=, context_pre_only=, pre_only=, elementwise_affine=, is_causal=, dtype=, device=, operations=', _REASON)
ConvLayer = unsupported_class(__name__, 'ConvLayer', 'in_dim, out_dim, kernel_size=, stride=, dilation=, groups=, padding=, use_bias=, norm=, act=, dtype=, device=, operations=', _REASON)
CustomLiteLAProcessor2_0 = unsupported_class(__name__, 'CustomLiteLAProcessor2_0', '', _REASON)
CustomerAttnProcessor2_0 = unsupported_class(__name__, 'CustomerAttnProcessor2_0', None, _REASON)
GLUMBConv = unsupported_class(__name__, 'GLUMBConv', 'in_features, hidden_features, out_feature=, kernel_size=, stride=, padding=, use_bias=, norm=, act=, dilation=, dtype=, device=, operations=', _REASON)
LinearTransformerBlock = unsupported_class(__name__, 'LinearTransformerBlock', 'dim, num_attention_heads, attention_head_dim, use_adaln_single=, cross_attention_dim=, added_kv_proj_dim=, context_pre_only=, mlp_ratio=, add_cross_attention=, add_cross_attention_dim=, qk_norm=, dtype=, device=, operations=', _REASON)
get_same_padding = unsupported_function(__name__, 'get_same_padding', 'kernel_size', _REASON)
t2i_modulate = unsupported_function(__name__, 't2i_modulate', 'x, shift, scale', _REASON)
val2list = unsupported_function(__name__, 'val2list', 'x, repeat_time=', _REASON)
val2tuple = unsupported_function(__name__, 'val2tuple', 'x, min_len=, idx_repeat=', _REASON)
