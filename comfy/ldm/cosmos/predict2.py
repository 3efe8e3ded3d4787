"""ComfyUI's `comfy.ldm.cosmos.predict2`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

Attention = unsupported_class(__name__, 'Attention', 'query_dim, context_dim=, n_heads=, head_dim=, dropout=, device=, dtype=, operations=', _REASON)
Block = unsupported_class(__name__, 'Block', 'x_dim, context_dim, num_heads, mlp_ratio=, use_adaln_lora=, adaln_lora_dim=, device=, dtype=, operations=', _REASON)
FinalLayer = unsupported_class(__name__, 'FinalLayer', 'hidden_size, spatial_patch_size, temporal_patch_size, out_channels, use_adaln_lora=, adaln_lora_dim=, device=, dtype=, operations=', _REASON)
GPT2FeedForward = unsupported_class(__name__, 'GPT2FeedForward', 'd_model, d_ff, device=, dtype=, operations=', _REASON)
MiniTrainDIT = unsupported_class(__name__, 'MiniTrainDIT', 'max_img_h, max_img_w, max_frames, in_channels, out_channels, patch_spatial, patch_temporal, concat_padding_mask=, model_channels=, num_blocks=, num_heads=, mlp_ratio=, crossattn_emb_channels=, pos_emb_cls=, pos_emb_learnable=, pos_emb_interpolation=, min_fps=, max_fps=, use_adaln_lora=, adaln_lora_dim=, rope_h_extrapolation_ratio=, rope_w_extrapolation_ratio=, rope_t_extrapolation_ratio=, extra_per_block_abs_pos_emb=, extra_h_extrapolation_ratio=, extra_w_extrapolation_ratio=, extra_t_extrapolation_ratio=, rope_enable_fps_modulation=, image_model=, device=, dtype=, operations=', _REASON)
PatchEmbed = unsupported_class(__name__, 'PatchEmbed', 'spatial_patch_size, temporal_patch_size, in_channels=, out_channels=, device=, dtype=, operations=', _REASON)
TimestepEmbedding = unsupported_class(__name__, 'TimestepEmbedding', 'in_features, out_features, use_adaln_lora=, device=, dtype=, operations=', _REASON)
Timesteps = unsupported_class(__name__, 'Timesteps', 'num_channels', _REASON)
apply_rotary_pos_emb = unsupported_function(__name__, 'apply_rotary_pos_emb', 't, freqs', _REASON)
torch_attention_op = unsupported_function(__name__, 'torch_attention_op', 'q_B_S_H_D, k_B_S_H_D, v_B_S_H_D, transformer_options=', _REASON)
