"""ComfyUI's `comfy.ldm.hydit.models`, as faces: Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules)"

FinalLayer = unsupported_class(__name__, 'FinalLayer', 'final_hidden_size, c_emb_size, patch_size, out_channels, dtype=, device=, operations=', _REASON)
HunYuanDiT = unsupported_class(__name__, 'HunYuanDiT', 'input_size=, patch_size=, in_channels=, hidden_size=, depth=, num_heads=, mlp_ratio=, text_states_dim=, text_states_dim_t5=, text_len=, text_len_t5=, qk_norm=, size_cond=, use_style_cond=, learn_sigma=, norm=, log_fn=, attn_precision=, dtype=, device=, operations=, **kwargs', _REASON)
HunYuanDiTBlock = unsupported_class(__name__, 'HunYuanDiTBlock', 'hidden_size, c_emb_size, num_heads, mlp_ratio=, text_states_dim=, qk_norm=, norm_type=, skip=, attn_precision=, dtype=, device=, operations=', _REASON)
calc_rope = unsupported_function(__name__, 'calc_rope', 'x, patch_size, head_size', _REASON)
modulate = unsupported_function(__name__, 'modulate', 'x, shift, scale', _REASON)
