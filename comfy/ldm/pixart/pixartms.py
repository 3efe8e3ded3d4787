"""ComfyUI's `comfy.ldm.pixart.pixartms`, as faces: Kiln does not carry ComfyUI's `pixart` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `pixart` network code (Kiln's models are diffusers modules)"

PixArtMS = unsupported_class(__name__, 'PixArtMS', 'input_size=, patch_size=, in_channels=, hidden_size=, depth=, num_heads=, mlp_ratio=, class_dropout_prob=, learn_sigma=, pred_sigma=, drop_path=, caption_channels=, pe_interpolation=, pe_precision=, config=, model_max_length=, micro_condition=, qk_norm=, kv_compress_config=, dtype=, device=, operations=, **kwargs', _REASON)
PixArtMSBlock = unsupported_class(__name__, 'PixArtMSBlock', 'hidden_size, num_heads, mlp_ratio=, drop_path=, input_size=, sampling=, sr_ratio=, qk_norm=, dtype=, device=, operations=, **block_kwargs', _REASON)
get_2d_sincos_pos_embed_torch = unsupported_function(__name__, 'get_2d_sincos_pos_embed_torch', 'embed_dim, w, h, pe_interpolation=, base_size=, device=, dtype=', _REASON)
