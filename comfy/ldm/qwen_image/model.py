"""ComfyUI's `comfy.ldm.qwen_image.model`, as faces: Kiln does not carry ComfyUI's `qwen_image` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `qwen_image` network code (Kiln's models are diffusers modules)"

Attention = unsupported_class(__name__, 'Attention', 'query_dim, dim_head=, heads=, dropout=, bias=, eps=, out_bias=, out_dim=, out_context_dim=, dtype=, device=, operations=', _REASON)
FeedForward = unsupported_class(__name__, 'FeedForward', 'dim, dim_out=, mult=, dropout=, inner_dim=, bias=, dtype=, device=, operations=', _REASON)
GELU = unsupported_class(__name__, 'GELU', 'dim_in, dim_out, approximate=, bias=, dtype=, device=, operations=', _REASON)
LastLayer = unsupported_class(__name__, 'LastLayer', 'embedding_dim, conditioning_embedding_dim, elementwise_affine=, eps=, bias=, dtype=, device=, operations=', _REASON)
QwenImageTransformer2DModel = unsupported_class(__name__, 'QwenImageTransformer2DModel', 'patch_size=, in_channels=, out_channels=, num_layers=, attention_head_dim=, num_attention_heads=, joint_attention_dim=, pooled_projection_dim=, guidance_embeds=, axes_dims_rope=, image_model=, final_layer=, dtype=, device=, operations=', _REASON)
QwenImageTransformerBlock = unsupported_class(__name__, 'QwenImageTransformerBlock', 'dim, num_attention_heads, attention_head_dim, eps=, dtype=, device=, operations=', _REASON)
QwenTimestepProjEmbeddings = unsupported_class(__name__, 'QwenTimestepProjEmbeddings', 'embedding_dim, pooled_projection_dim, dtype=, device=, operations=', _REASON)
apply_rotary_emb = unsupported_function(__name__, 'apply_rotary_emb', 'x, freqs_cis', _REASON)
