"""ComfyUI's `comfy.ldm.hunyuan_video.model`, as faces: Kiln does not carry ComfyUI's `hunyuan_video` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `hunyuan_video` network code (Kiln's models are diffusers modules)"

ByT5Mapper = unsupported_class(__name__, 'ByT5Mapper', 'in_dim, out_dim, hidden_dim, out_dim1, use_res=, dtype=, device=, operations=', _REASON)
HunyuanVideo = unsupported_class(__name__, 'HunyuanVideo', 'image_model=, final_layer=, dtype=, device=, operations=, **kwargs', _REASON)
HunyuanVideoParams = unsupported_class(__name__, 'HunyuanVideoParams', None, _REASON)
IndividualTokenRefiner = unsupported_class(__name__, 'IndividualTokenRefiner', 'hidden_size, heads, num_blocks, dtype=, device=, operations=', _REASON)
SelfAttentionRef = unsupported_class(__name__, 'SelfAttentionRef', 'dim, qkv_bias=, dtype=, device=, operations=', _REASON)
TokenRefiner = unsupported_class(__name__, 'TokenRefiner', 'text_dim, hidden_size, heads, num_blocks, dtype=, device=, operations=', _REASON)
TokenRefinerBlock = unsupported_class(__name__, 'TokenRefinerBlock', 'hidden_size, heads, dtype=, device=, operations=', _REASON)
