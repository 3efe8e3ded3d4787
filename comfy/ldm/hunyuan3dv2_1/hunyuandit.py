"""ComfyUI's `comfy.ldm.hunyuan3dv2_1.hunyuandit`, as faces: Kiln does not carry ComfyUI's `hunyuan3dv2_1` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `hunyuan3dv2_1` network code (Kiln's models are diffusers modules)"

AddAuxLoss = unsupported_class(__name__, 'AddAuxLoss', None, _REASON)
Attention = unsupported_class(__name__, 'Attention', 'dim, num_heads, qkv_bias=, qk_norm=, norm_layer=, use_fp16=, operations=, device=, dtype=', _REASON)
CrossAttention = unsupported_class(__name__, 'CrossAttention', 'qdim, kdim, num_heads, qkv_bias=, qk_norm=, norm_layer=, use_fp16=, operations=, dtype=, device=, **kwargs', _REASON)
FeedForward = unsupported_class(__name__, 'FeedForward', 'dim, dim_out=, mult=, dropout=, inner_dim=, operations=, device=, dtype=', _REASON)
FinalLayer = unsupported_class(__name__, 'FinalLayer', 'final_hidden_size, out_channels, operations, use_fp16=, device=, dtype=', _REASON)
GELU = unsupported_class(__name__, 'GELU', 'dim_in, dim_out, operations, device, dtype', _REASON)
HunYuanDiTBlock = unsupported_class(__name__, 'HunYuanDiTBlock', 'hidden_size, c_emb_size, num_heads, text_states_dim=, qk_norm=, norm_layer=, qk_norm_layer=, qkv_bias=, skip_connection=, timested_modulate=, use_moe=, num_experts=, moe_top_k=, use_fp16=, operations=, device=, dtype=', _REASON)
HunYuanDiTPlain = unsupported_class(__name__, 'HunYuanDiTPlain', 'in_channels=, hidden_size=, context_dim=, depth=, num_heads=, qk_norm=, qkv_bias=, num_moe_layers=, guidance_cond_proj_dim=, norm_type=, num_experts=, moe_top_k=, use_fp16=, dtype=, device=, operations=, **kwargs', _REASON)
MLP = unsupported_class(__name__, 'MLP', '*, width, operations=, device=, dtype=', _REASON)
MoEBlock = unsupported_class(__name__, 'MoEBlock', 'dim, num_experts=, moe_top_k=, dropout=, ff_inner_dim=, operations=, device=, dtype=', _REASON)
MoEGate = unsupported_class(__name__, 'MoEGate', 'embed_dim, num_experts=, num_experts_per_tok=, aux_loss_alpha=, device=, dtype=', _REASON)
TimestepEmbedder = unsupported_class(__name__, 'TimestepEmbedder', 'hidden_size, frequency_embedding_size=, cond_proj_dim=, operations=, device=, dtype=', _REASON)
Timesteps = unsupported_class(__name__, 'Timesteps', 'num_channels, downscale_freq_shift=, scale=, max_period=', _REASON)
