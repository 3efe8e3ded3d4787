"""ComfyUI's `comfy.text_encoders.qwen_vl`, as faces: Kiln has no `qwen_vl` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `qwen_vl` text encoder'

PatchMerger = unsupported_class(__name__, 'PatchMerger', 'dim, context_dim, spatial_merge_size=, device=, dtype=, ops=', _REASON)
Qwen2VLVisionTransformer = unsupported_class(__name__, 'Qwen2VLVisionTransformer', 'hidden_size=, output_hidden_size=, intermediate_size=, num_heads=, num_layers=, patch_size=, temporal_patch_size=, spatial_merge_size=, window_size=, device=, dtype=, ops=', _REASON)
VisionAttention = unsupported_class(__name__, 'VisionAttention', 'hidden_size, num_heads, device=, dtype=, ops=', _REASON)
VisionBlock = unsupported_class(__name__, 'VisionBlock', 'hidden_size, intermediate_size, num_heads, device=, dtype=, ops=', _REASON)
VisionMLP = unsupported_class(__name__, 'VisionMLP', 'hidden_size, intermediate_size, device=, dtype=, ops=', _REASON)
VisionPatchEmbed = unsupported_class(__name__, 'VisionPatchEmbed', 'patch_size=, temporal_patch_size=, in_channels=, embed_dim=, device=, dtype=, ops=', _REASON)
VisionRotaryEmbedding = unsupported_class(__name__, 'VisionRotaryEmbedding', 'dim, theta=', _REASON)
apply_rotary_pos_emb_vision = unsupported_function(__name__, 'apply_rotary_pos_emb_vision', 'q, k, cos, sin', _REASON)
process_qwen2vl_images = unsupported_function(__name__, 'process_qwen2vl_images', 'images, min_pixels=, max_pixels=, patch_size=, temporal_patch_size=, merge_size=, image_mean=, image_std=', _REASON)
rotate_half = unsupported_function(__name__, 'rotate_half', 'x', _REASON)
