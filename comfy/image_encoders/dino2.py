"""ComfyUI's `comfy.image_encoders.dino2`, as faces: Kiln has no audio or DINO image encoders.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no audio or DINO image encoders'

Dino2AttentionBlock = unsupported_class(__name__, 'Dino2AttentionBlock', 'embed_dim, heads, layer_norm_eps, dtype, device, operations', _REASON)
Dino2AttentionOutput = unsupported_class(__name__, 'Dino2AttentionOutput', 'input_dim, output_dim, layer_norm_eps, dtype, device, operations', _REASON)
Dino2Block = unsupported_class(__name__, 'Dino2Block', 'dim, num_heads, layer_norm_eps, dtype, device, operations, use_swiglu_ffn', _REASON)
Dino2Embeddings = unsupported_class(__name__, 'Dino2Embeddings', 'dim, dtype, device, operations', _REASON)
Dino2Encoder = unsupported_class(__name__, 'Dino2Encoder', 'dim, num_heads, layer_norm_eps, num_layers, dtype, device, operations, use_swiglu_ffn', _REASON)
Dino2PatchEmbeddings = unsupported_class(__name__, 'Dino2PatchEmbeddings', 'dim, num_channels=, patch_size=, image_size=, dtype=, device=, operations=', _REASON)
Dinov2MLP = unsupported_class(__name__, 'Dinov2MLP', 'hidden_size, dtype, device, operations', _REASON)
Dinov2Model = unsupported_class(__name__, 'Dinov2Model', 'config_dict, dtype, device, operations', _REASON)
LayerScale = unsupported_class(__name__, 'LayerScale', 'dim, dtype, device, operations', _REASON)
SwiGLUFFN = unsupported_class(__name__, 'SwiGLUFFN', 'dim, dtype, device, operations', _REASON)
