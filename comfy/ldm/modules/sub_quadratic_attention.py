"""ComfyUI's `comfy.ldm.modules.sub_quadratic_attention`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

AttnChunk = unsupported_class(__name__, 'AttnChunk', None, _REASON)
ComputeQueryChunkAttn = unsupported_class(__name__, 'ComputeQueryChunkAttn', None, _REASON)
ScannedChunk = unsupported_class(__name__, 'ScannedChunk', None, _REASON)
SummarizeChunk = unsupported_class(__name__, 'SummarizeChunk', None, _REASON)
dynamic_slice = unsupported_function(__name__, 'dynamic_slice', 'x, starts, sizes', _REASON)
efficient_dot_product_attention = unsupported_function(__name__, 'efficient_dot_product_attention', 'query, key_t, value, query_chunk_size=, kv_chunk_size=, kv_chunk_size_min=, use_checkpoint=, upcast_attention=, mask=', _REASON)
