"""ComfyUI's `comfy.audio_encoders.wav2vec2`, as faces: Kiln has no audio or DINO image encoders.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no audio or DINO image encoders'

Attention = unsupported_class(__name__, 'Attention', 'embed_dim, num_heads, bias=, dtype=, device=, operations=', _REASON)
ConvFeatureEncoder = unsupported_class(__name__, 'ConvFeatureEncoder', 'conv_dim, conv_bias=, conv_norm=, dtype=, device=, operations=', _REASON)
ConvNoNorm = unsupported_class(__name__, 'ConvNoNorm', 'in_channels, out_channels, kernel_size, stride, bias=, dtype=, device=, operations=', _REASON)
FeatureProjection = unsupported_class(__name__, 'FeatureProjection', 'conv_dim, embed_dim, dtype=, device=, operations=', _REASON)
FeedForward = unsupported_class(__name__, 'FeedForward', 'embed_dim, mlp_ratio, dtype=, device=, operations=', _REASON)
LayerGroupNormConv = unsupported_class(__name__, 'LayerGroupNormConv', 'in_channels, out_channels, kernel_size, stride, bias=, dtype=, device=, operations=', _REASON)
LayerNormConv = unsupported_class(__name__, 'LayerNormConv', 'in_channels, out_channels, kernel_size, stride, bias=, dtype=, device=, operations=', _REASON)
PositionalConvEmbedding = unsupported_class(__name__, 'PositionalConvEmbedding', 'embed_dim=, kernel_size=, groups=', _REASON)
TransformerEncoder = unsupported_class(__name__, 'TransformerEncoder', 'embed_dim=, num_heads=, num_layers=, mlp_ratio=, do_stable_layer_norm=, dtype=, device=, operations=', _REASON)
TransformerEncoderLayer = unsupported_class(__name__, 'TransformerEncoderLayer', 'embed_dim=, num_heads=, mlp_ratio=, do_stable_layer_norm=, dtype=, device=, operations=', _REASON)
Wav2Vec2Model = unsupported_class(__name__, 'Wav2Vec2Model', 'embed_dim=, final_dim=, num_heads=, num_layers=, conv_norm=, conv_bias=, do_normalize=, do_stable_layer_norm=, dtype=, device=, operations=', _REASON)
