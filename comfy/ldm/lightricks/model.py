"""ComfyUI's `comfy.ldm.lightricks.model`, as faces: Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules)"

AdaLayerNormSingle = unsupported_class(__name__, 'AdaLayerNormSingle', 'embedding_dim, use_additional_conditions=, dtype=, device=, operations=', _REASON)
BasicTransformerBlock = unsupported_class(__name__, 'BasicTransformerBlock', 'dim, n_heads, d_head, context_dim=, attn_precision=, dtype=, device=, operations=', _REASON)
CrossAttention = unsupported_class(__name__, 'CrossAttention', 'query_dim, context_dim=, heads=, dim_head=, dropout=, attn_precision=, dtype=, device=, operations=', _REASON)
FeedForward = unsupported_class(__name__, 'FeedForward', 'dim, dim_out, mult=, glu=, dropout=, dtype=, device=, operations=', _REASON)
GELU_approx = unsupported_class(__name__, 'GELU_approx', 'dim_in, dim_out, dtype=, device=, operations=', _REASON)
LTXVModel = unsupported_class(__name__, 'LTXVModel', 'in_channels=, cross_attention_dim=, attention_head_dim=, num_attention_heads=, caption_channels=, num_layers=, positional_embedding_theta=, positional_embedding_max_pos=, causal_temporal_positioning=, vae_scale_factors=, dtype=, device=, operations=, **kwargs', _REASON)
PixArtAlphaCombinedTimestepSizeEmbeddings = unsupported_class(__name__, 'PixArtAlphaCombinedTimestepSizeEmbeddings', 'embedding_dim, size_emb_dim, use_additional_conditions=, dtype=, device=, operations=', _REASON)
PixArtAlphaTextProjection = unsupported_class(__name__, 'PixArtAlphaTextProjection', 'in_features, hidden_size, out_features=, act_fn=, dtype=, device=, operations=', _REASON)
TimestepEmbedding = unsupported_class(__name__, 'TimestepEmbedding', 'in_channels, time_embed_dim, act_fn=, out_dim=, post_act_fn=, cond_proj_dim=, sample_proj_bias=, dtype=, device=, operations=', _REASON)
Timesteps = unsupported_class(__name__, 'Timesteps', 'num_channels, flip_sin_to_cos, downscale_freq_shift, scale=', _REASON)
apply_rotary_emb = unsupported_function(__name__, 'apply_rotary_emb', 'input_tensor, freqs_cis', _REASON)
get_fractional_positions = unsupported_function(__name__, 'get_fractional_positions', 'indices_grid, max_pos', _REASON)
get_timestep_embedding = unsupported_function(__name__, 'get_timestep_embedding', 'timesteps, embedding_dim, flip_sin_to_cos=, downscale_freq_shift=, scale=, max_period=', _REASON)
precompute_freqs_cis = unsupported_function(__name__, 'precompute_freqs_cis', 'indices_grid, dim, out_dtype, theta=, max_pos=', _REASON)
