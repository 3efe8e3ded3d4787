"""ComfyUI's `comfy.ldm.hydit.attn_layers`, as faces: Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules)"

Attention = unsupported_class(__name__, 'Attention', 'dim, num_heads, qkv_bias=, qk_norm=, attn_drop=, proj_drop=, attn_precision=, dtype=, device=, operations=', _REASON)
CrossAttention = unsupported_class(__name__, 'CrossAttention', 'qdim, kdim, num_heads, qkv_bias=, qk_norm=, attn_drop=, proj_drop=, attn_precision=, device=, dtype=, operations=', _REASON)
apply_rotary_emb = unsupported_function(__name__, 'apply_rotary_emb', 'xq, xk, freqs_cis, head_first=', _REASON)
reshape_for_broadcast = unsupported_function(__name__, 'reshape_for_broadcast', 'freqs_cis, x, head_first=', _REASON)
rotate_half = unsupported_function(__name__, 'rotate_half', 'x', _REASON)
