"""ComfyUI's `comfy.ldm.cosmos.blocks`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

Attention = unsupported_class(__name__, 'Attention', 'query_dim, context_dim=, heads=, dim_head=, dropout=, attn_op=, qkv_bias=, out_bias=, qkv_norm=, qkv_norm_mode=, backend=, qkv_format=, weight_args=, operations=', _REASON)
BaseAttentionOp = unsupported_class(__name__, 'BaseAttentionOp', '', _REASON)
DITBuildingBlock = unsupported_class(__name__, 'DITBuildingBlock', 'block_type, x_dim, context_dim, num_heads, mlp_ratio=, bias=, mlp_dropout=, qkv_norm_mode=, x_format=, use_adaln_lora=, adaln_lora_dim=, weight_args=, operations=', _REASON)
FeedForward = unsupported_class(__name__, 'FeedForward', 'd_model, d_ff, dropout=, activation=, is_gated=, bias=, weight_args=, operations=', _REASON)
FinalLayer = unsupported_class(__name__, 'FinalLayer', 'hidden_size, spatial_patch_size, temporal_patch_size, out_channels, use_adaln_lora=, adaln_lora_dim=, weight_args=, operations=', _REASON)
FourierFeatures = unsupported_class(__name__, 'FourierFeatures', 'num_channels, bandwidth=, normalize=', _REASON)
GPT2FeedForward = unsupported_class(__name__, 'GPT2FeedForward', 'd_model, d_ff, dropout=, bias=, weight_args=, operations=', _REASON)
GeneralDITTransformerBlock = unsupported_class(__name__, 'GeneralDITTransformerBlock', 'x_dim, context_dim, num_heads, block_config, mlp_ratio=, x_format=, use_adaln_lora=, adaln_lora_dim=, weight_args=, operations=', _REASON)
PatchEmbed = unsupported_class(__name__, 'PatchEmbed', 'spatial_patch_size, temporal_patch_size, in_channels=, out_channels=, bias=, weight_args=, operations=', _REASON)
TimestepEmbedding = unsupported_class(__name__, 'TimestepEmbedding', 'in_features, out_features, use_adaln_lora=, weight_args=, operations=', _REASON)
Timesteps = unsupported_class(__name__, 'Timesteps', 'num_channels', _REASON)
VideoAttn = unsupported_class(__name__, 'VideoAttn', 'x_dim, context_dim, num_heads, bias=, qkv_norm_mode=, x_format=, weight_args=, operations=', _REASON)
adaln_norm_state = unsupported_function(__name__, 'adaln_norm_state', 'norm_state, x, scale, shift', _REASON)
get_normalization = unsupported_function(__name__, 'get_normalization', 'name, channels, weight_args=, operations=', _REASON)
modulate = unsupported_function(__name__, 'modulate', 'x, shift, scale', _REASON)
