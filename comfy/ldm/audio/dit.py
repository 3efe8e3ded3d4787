"""ComfyUI's `comfy.ldm.audio.dit`, as faces: Kiln does not carry ComfyUI's `audio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `audio` network code (Kiln's models are diffusers modules)"

AbsolutePositionalEmbedding = unsupported_class(__name__, 'AbsolutePositionalEmbedding', 'dim, max_seq_len', _REASON)
Attention = unsupported_class(__name__, 'Attention', 'dim, dim_heads=, dim_context=, causal=, zero_init_output=, qk_norm=, natten_kernel_size=, dtype=, device=, operations=', _REASON)
AudioDiffusionTransformer = unsupported_class(__name__, 'AudioDiffusionTransformer', 'io_channels=, patch_size=, embed_dim=, cond_token_dim=, project_cond_tokens=, global_cond_dim=, project_global_cond=, input_concat_dim=, prepend_cond_dim=, depth=, num_heads=, transformer_type=, global_cond_type=, audio_model=, dtype=, device=, operations=, **kwargs', _REASON)
ConformerModule = unsupported_class(__name__, 'ConformerModule', 'dim, norm_kwargs=', _REASON)
ContinuousTransformer = unsupported_class(__name__, 'ContinuousTransformer', 'dim, depth, *, dim_in=, dim_out=, dim_heads=, cross_attend=, cond_token_dim=, global_cond_dim=, causal=, rotary_pos_emb=, zero_init_branch_outputs=, conformer=, use_sinusoidal_emb=, use_abs_pos_emb=, abs_pos_emb_max_length=, dtype=, device=, operations=, **kwargs', _REASON)
FeedForward = unsupported_class(__name__, 'FeedForward', 'dim, dim_out=, mult=, no_bias=, glu=, use_conv=, conv_kernel_size=, zero_init_output=, dtype=, device=, operations=', _REASON)
FourierFeatures = unsupported_class(__name__, 'FourierFeatures', 'in_features, out_features, std=, dtype=, device=', _REASON)
GLU = unsupported_class(__name__, 'GLU', 'dim_in, dim_out, activation, use_conv=, conv_kernel_size=, dtype=, device=, operations=', _REASON)
LayerNorm = unsupported_class(__name__, 'LayerNorm', 'dim, bias=, fix_scale=, dtype=, device=', _REASON)
RotaryEmbedding = unsupported_class(__name__, 'RotaryEmbedding', 'dim, use_xpos=, scale_base=, interpolation_factor=, base=, base_rescale_factor=, dtype=, device=', _REASON)
ScaledSinusoidalEmbedding = unsupported_class(__name__, 'ScaledSinusoidalEmbedding', 'dim, theta=', _REASON)
TransformerBlock = unsupported_class(__name__, 'TransformerBlock', 'dim, dim_heads=, cross_attend=, dim_context=, global_cond_dim=, causal=, zero_init_branch_outputs=, conformer=, layer_ix=, remove_norms=, attn_kwargs=, ff_kwargs=, norm_kwargs=, dtype=, device=, operations=', _REASON)
apply_rotary_pos_emb = unsupported_function(__name__, 'apply_rotary_pos_emb', 't, freqs, scale=', _REASON)
rotate_half = unsupported_function(__name__, 'rotate_half', 'x', _REASON)
