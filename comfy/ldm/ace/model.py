"""ComfyUI's `comfy.ldm.ace.model`, as faces: Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules)"

ACEStepTransformer2DModel = unsupported_class(__name__, 'ACEStepTransformer2DModel', 'in_channels=, num_layers=, inner_dim=, attention_head_dim=, num_attention_heads=, mlp_ratio=, out_channels=, max_position=, rope_theta=, speaker_embedding_dim=, text_embedding_dim=, ssl_encoder_depths=, ssl_names=, ssl_latent_dims=, lyric_encoder_vocab_size=, lyric_hidden_size=, patch_size=, max_height=, max_width=, audio_model=, dtype=, device=, operations=', _REASON)
PatchEmbed = unsupported_class(__name__, 'PatchEmbed', 'height=, width=, patch_size=, in_channels=, embed_dim=, bias=, dtype=, device=, operations=', _REASON)
Qwen2RotaryEmbedding = unsupported_class(__name__, 'Qwen2RotaryEmbedding', 'dim, max_position_embeddings=, base=, dtype=, device=', _REASON)
T2IFinalLayer = unsupported_class(__name__, 'T2IFinalLayer', 'hidden_size, patch_size=, out_channels=, dtype=, device=, operations=', _REASON)
cross_norm = unsupported_function(__name__, 'cross_norm', 'hidden_states, controlnet_input', _REASON)
