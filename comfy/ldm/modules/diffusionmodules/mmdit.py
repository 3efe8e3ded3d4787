"""ComfyUI's `comfy.ldm.modules.diffusionmodules.mmdit`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

ContextProcessor = unsupported_class(__name__, 'ContextProcessor', 'context_size, num_layers, dtype=, device=, operations=', _REASON)
ContextProcessorBlock = unsupported_class(__name__, 'ContextProcessorBlock', 'context_size, dtype=, device=, operations=', _REASON)
DismantledBlock = unsupported_class(__name__, 'DismantledBlock', 'hidden_size, num_heads, mlp_ratio=, attn_mode=, qkv_bias=, pre_only=, rmsnorm=, scale_mod_only=, swiglu=, qk_norm=, x_block_self_attn=, dtype=, device=, operations=, **block_kwargs', _REASON)
FinalLayer = unsupported_class(__name__, 'FinalLayer', 'hidden_size, patch_size, out_channels, total_out_channels=, dtype=, device=, operations=', _REASON)
JointBlock = unsupported_class(__name__, 'JointBlock', '*args, **kwargs', _REASON)
MMDiT = unsupported_class(__name__, 'MMDiT', 'input_size=, patch_size=, in_channels=, depth=, mlp_ratio=, learn_sigma=, adm_in_channels=, context_embedder_config=, compile_core=, use_checkpoint=, register_length=, attn_mode=, rmsnorm=, scale_mod_only=, swiglu=, out_channels=, pos_embed_scaling_factor=, pos_embed_offset=, pos_embed_max_size=, num_patches=, qk_norm=, qkv_bias=, context_processor_layers=, x_block_self_attn=, x_block_self_attn_layers=, context_size=, num_blocks=, final_layer=, skip_blocks=, dtype=, device=, operations=', _REASON)
Mlp = unsupported_class(__name__, 'Mlp', 'in_features, hidden_features=, out_features=, act_layer=, norm_layer=, bias=, drop=, use_conv=, dtype=, device=, operations=', _REASON)
OpenAISignatureMMDITWrapper = unsupported_class(__name__, 'OpenAISignatureMMDITWrapper', None, _REASON)
PatchEmbed = unsupported_class(__name__, 'PatchEmbed', 'img_size=, patch_size=, in_chans=, embed_dim=, norm_layer=, flatten=, bias=, strict_img_size=, dynamic_img_pad=, padding_mode=, conv3d=, dtype=, device=, operations=', _REASON)
RMSNorm = unsupported_class(__name__, 'RMSNorm', 'dim, elementwise_affine=, eps=, device=, dtype=, **kwargs', _REASON)
SelfAttention = unsupported_class(__name__, 'SelfAttention', 'dim, num_heads=, qkv_bias=, qk_scale=, proj_drop=, attn_mode=, pre_only=, qk_norm=, rmsnorm=, dtype=, device=, operations=', _REASON)
SelfAttentionContext = unsupported_class(__name__, 'SelfAttentionContext', 'dim, heads=, dim_head=, dtype=, device=, operations=', _REASON)
SwiGLUFeedForward = unsupported_class(__name__, 'SwiGLUFeedForward', 'dim, hidden_dim, multiple_of, ffn_dim_multiplier=', _REASON)
TimestepEmbedder = unsupported_class(__name__, 'TimestepEmbedder', 'hidden_size, frequency_embedding_size=, dtype=, device=, operations=', _REASON)
VectorEmbedder = unsupported_class(__name__, 'VectorEmbedder', 'input_dim, hidden_size, dtype=, device=, operations=', _REASON)
block_mixing = unsupported_function(__name__, 'block_mixing', '*args, use_checkpoint=, **kwargs', _REASON)
default = unsupported_function(__name__, 'default', 'x, y', _REASON)
gate_cat = unsupported_function(__name__, 'gate_cat', 'x, gate_msa, gate_msa2, attn1, attn2', _REASON)
get_1d_sincos_pos_embed_from_grid = unsupported_function(__name__, 'get_1d_sincos_pos_embed_from_grid', 'embed_dim, pos', _REASON)
get_1d_sincos_pos_embed_from_grid_torch = unsupported_function(__name__, 'get_1d_sincos_pos_embed_from_grid_torch', 'embed_dim, pos, device=, dtype=', _REASON)
get_2d_sincos_pos_embed = unsupported_function(__name__, 'get_2d_sincos_pos_embed', 'embed_dim, grid_size, cls_token=, extra_tokens=, scaling_factor=, offset=', _REASON)
get_2d_sincos_pos_embed_from_grid = unsupported_function(__name__, 'get_2d_sincos_pos_embed_from_grid', 'embed_dim, grid', _REASON)
get_2d_sincos_pos_embed_torch = unsupported_function(__name__, 'get_2d_sincos_pos_embed_torch', 'embed_dim, w, h, val_center=, val_magnitude=, device=, dtype=', _REASON)
modulate = unsupported_function(__name__, 'modulate', 'x, shift, scale', _REASON)
split_qkv = unsupported_function(__name__, 'split_qkv', 'qkv, head_dim', _REASON)
