"""ComfyUI's `comfy.clip_model`, as faces: Kiln's CLIP encoders are transformers models, not ComfyUI's CLIP network code.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class

_REASON = "Kiln's CLIP encoders are transformers models, not ComfyUI's CLIP network code"

ACTIVATIONS = UnsupportedValue(__name__, 'ACTIVATIONS', _REASON)
CLIPAttention = unsupported_class(__name__, 'CLIPAttention', 'embed_dim, heads, dtype, device, operations', _REASON)
CLIPEmbeddings = unsupported_class(__name__, 'CLIPEmbeddings', 'embed_dim, vocab_size=, num_positions=, dtype=, device=, operations=', _REASON)
CLIPEncoder = unsupported_class(__name__, 'CLIPEncoder', 'num_layers, embed_dim, heads, intermediate_size, intermediate_activation, dtype, device, operations', _REASON)
CLIPLayer = unsupported_class(__name__, 'CLIPLayer', 'embed_dim, heads, intermediate_size, intermediate_activation, dtype, device, operations', _REASON)
CLIPMLP = unsupported_class(__name__, 'CLIPMLP', 'embed_dim, intermediate_size, activation, dtype, device, operations', _REASON)
CLIPTextModel = unsupported_class(__name__, 'CLIPTextModel', 'config_dict, dtype, device, operations', _REASON)
CLIPTextModel_ = unsupported_class(__name__, 'CLIPTextModel_', 'config_dict, dtype, device, operations', _REASON)
CLIPVision = unsupported_class(__name__, 'CLIPVision', 'config_dict, dtype, device, operations', _REASON)
CLIPVisionEmbeddings = unsupported_class(__name__, 'CLIPVisionEmbeddings', 'embed_dim, num_channels=, patch_size=, image_size=, model_type=, dtype=, device=, operations=', _REASON)
CLIPVisionModelProjection = unsupported_class(__name__, 'CLIPVisionModelProjection', 'config_dict, dtype, device, operations', _REASON)
LlavaProjector = unsupported_class(__name__, 'LlavaProjector', 'in_dim, out_dim, dtype, device, operations', _REASON)
