"""ComfyUI's `comfy.ldm.omnigen.omnigen2`, as faces: Kiln does not carry ComfyUI's `omnigen` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `omnigen` network code (Kiln's models are diffusers modules)"

Attention = unsupported_class(__name__, 'Attention', 'query_dim, dim_head, heads, kv_heads, eps=, bias=, dtype=, device=, operations=', _REASON)
Lumina2CombinedTimestepCaptionEmbedding = unsupported_class(__name__, 'Lumina2CombinedTimestepCaptionEmbedding', 'hidden_size=, text_feat_dim=, frequency_embedding_size=, norm_eps=, timestep_scale=, dtype=, device=, operations=', _REASON)
LuminaFeedForward = unsupported_class(__name__, 'LuminaFeedForward', 'dim, inner_dim, multiple_of=, dtype=, device=, operations=', _REASON)
LuminaLayerNormContinuous = unsupported_class(__name__, 'LuminaLayerNormContinuous', 'embedding_dim, conditioning_embedding_dim, elementwise_affine=, eps=, out_dim=, dtype=, device=, operations=', _REASON)
LuminaRMSNormZero = unsupported_class(__name__, 'LuminaRMSNormZero', 'embedding_dim, norm_eps=, dtype=, device=, operations=', _REASON)
OmniGen2RotaryPosEmbed = unsupported_class(__name__, 'OmniGen2RotaryPosEmbed', 'theta, axes_dim, axes_lens=, patch_size=', _REASON)
OmniGen2Transformer2DModel = unsupported_class(__name__, 'OmniGen2Transformer2DModel', 'patch_size=, in_channels=, out_channels=, hidden_size=, num_layers=, num_refiner_layers=, num_attention_heads=, num_kv_heads=, multiple_of=, ffn_dim_multiplier=, norm_eps=, axes_dim_rope=, axes_lens=, text_feat_dim=, timestep_scale=, image_model=, device=, dtype=, operations=', _REASON)
OmniGen2TransformerBlock = unsupported_class(__name__, 'OmniGen2TransformerBlock', 'dim, num_attention_heads, num_kv_heads, multiple_of, ffn_dim_multiplier, norm_eps, modulation=, dtype=, device=, operations=', _REASON)
TimestepEmbedding = unsupported_class(__name__, 'TimestepEmbedding', 'in_channels, time_embed_dim, dtype=, device=, operations=', _REASON)
apply_rotary_emb = unsupported_function(__name__, 'apply_rotary_emb', 'x, freqs_cis', _REASON)
swiglu = unsupported_function(__name__, 'swiglu', 'x, y', _REASON)
