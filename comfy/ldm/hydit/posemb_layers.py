"""ComfyUI's `comfy.ldm.hydit.posemb_layers`, as faces: Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = "Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules)"

calc_sizes = unsupported_function(__name__, 'calc_sizes', 'rope_img, patch_size, th, tw', _REASON)
get_1d_rotary_pos_embed = unsupported_function(__name__, 'get_1d_rotary_pos_embed', 'dim, pos, theta=, use_real=', _REASON)
get_1d_sincos_pos_embed_from_grid = unsupported_function(__name__, 'get_1d_sincos_pos_embed_from_grid', 'embed_dim, pos', _REASON)
get_2d_rotary_pos_embed = unsupported_function(__name__, 'get_2d_rotary_pos_embed', 'embed_dim, start, *args, use_real=', _REASON)
get_2d_rotary_pos_embed_from_grid = unsupported_function(__name__, 'get_2d_rotary_pos_embed_from_grid', 'embed_dim, grid, use_real=', _REASON)
get_2d_sincos_pos_embed = unsupported_function(__name__, 'get_2d_sincos_pos_embed', 'embed_dim, start, *args, cls_token=, extra_tokens=', _REASON)
get_2d_sincos_pos_embed_from_grid = unsupported_function(__name__, 'get_2d_sincos_pos_embed_from_grid', 'embed_dim, grid', _REASON)
get_fill_resize_and_crop = unsupported_function(__name__, 'get_fill_resize_and_crop', 'src, tgt', _REASON)
get_meshgrid = unsupported_function(__name__, 'get_meshgrid', 'start, *args', _REASON)
init_image_posemb = unsupported_function(__name__, 'init_image_posemb', 'rope_img, resolutions, patch_size, hidden_size, num_heads, log_fn, rope_real=', _REASON)
