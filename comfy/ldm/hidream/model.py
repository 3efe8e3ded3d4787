"""ComfyUI's `comfy.ldm.hidream.model`, as faces: Kiln does not carry ComfyUI's `hidream` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `hidream` network code (Kiln's models are diffusers modules)"

BlockType = unsupported_class(__name__, 'BlockType', None, _REASON)
EmbedND = unsupported_class(__name__, 'EmbedND', 'theta, axes_dim', _REASON)
FeedForwardSwiGLU = unsupported_class(__name__, 'FeedForwardSwiGLU', 'dim, hidden_dim, multiple_of=, ffn_dim_multiplier=, dtype=, device=, operations=', _REASON)
HiDreamAttention = unsupported_class(__name__, 'HiDreamAttention', 'query_dim, heads=, dim_head=, upcast_attention=, upcast_softmax=, scale_qk=, eps=, processor=, out_dim=, single=, dtype=, device=, operations=', _REASON)
HiDreamAttnProcessor_flashattn = unsupported_class(__name__, 'HiDreamAttnProcessor_flashattn', None, _REASON)
HiDreamImageBlock = unsupported_class(__name__, 'HiDreamImageBlock', 'dim, num_attention_heads, attention_head_dim, num_routed_experts=, num_activated_experts=, block_type=, dtype=, device=, operations=', _REASON)
HiDreamImageSingleTransformerBlock = unsupported_class(__name__, 'HiDreamImageSingleTransformerBlock', 'dim, num_attention_heads, attention_head_dim, num_routed_experts=, num_activated_experts=, dtype=, device=, operations=', _REASON)
HiDreamImageTransformer2DModel = unsupported_class(__name__, 'HiDreamImageTransformer2DModel', 'patch_size=, in_channels=, out_channels=, num_layers=, num_single_layers=, attention_head_dim=, num_attention_heads=, caption_channels=, text_emb_dim=, num_routed_experts=, num_activated_experts=, axes_dims_rope=, max_resolution=, llama_layers=, image_model=, dtype=, device=, operations=', _REASON)
HiDreamImageTransformerBlock = unsupported_class(__name__, 'HiDreamImageTransformerBlock', 'dim, num_attention_heads, attention_head_dim, num_routed_experts=, num_activated_experts=, dtype=, device=, operations=', _REASON)
MOEFeedForwardSwiGLU = unsupported_class(__name__, 'MOEFeedForwardSwiGLU', 'dim, hidden_dim, num_routed_experts, num_activated_experts, dtype=, device=, operations=', _REASON)
MoEGate = unsupported_class(__name__, 'MoEGate', 'embed_dim, num_routed_experts=, num_activated_experts=, aux_loss_alpha=, dtype=, device=, operations=', _REASON)
PatchEmbed = unsupported_class(__name__, 'PatchEmbed', 'patch_size=, in_channels=, out_channels=, dtype=, device=, operations=', _REASON)
PooledEmbed = unsupported_class(__name__, 'PooledEmbed', 'text_emb_dim, hidden_size, dtype=, device=, operations=', _REASON)
TextProjection = unsupported_class(__name__, 'TextProjection', 'in_features, hidden_size, dtype=, device=, operations=', _REASON)
TimestepEmbed = unsupported_class(__name__, 'TimestepEmbed', 'hidden_size, frequency_embedding_size=, dtype=, device=, operations=', _REASON)
attention = unsupported_function(__name__, 'attention', 'query, key, value, transformer_options=', _REASON)
