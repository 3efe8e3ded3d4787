"""ComfyUI's `comfy.ldm.hydit.controlnet`, as faces: Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules)"

HunYuanControlNet = unsupported_class(__name__, 'HunYuanControlNet', 'input_size=, patch_size=, in_channels=, hidden_size=, depth=, num_heads=, mlp_ratio=, text_states_dim=, text_states_dim_t5=, text_len=, text_len_t5=, qk_norm=, size_cond=, use_style_cond=, learn_sigma=, norm=, log_fn=, attn_precision=, dtype=, device=, operations=, **kwargs', _REASON)
