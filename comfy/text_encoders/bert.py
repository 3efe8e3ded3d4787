"""ComfyUI's `comfy.text_encoders.bert`, as faces: Kiln has no `bert` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no `bert` text encoder'

BertAttention = unsupported_class(__name__, 'BertAttention', 'embed_dim, heads, dtype, device, operations', _REASON)
BertAttentionBlock = unsupported_class(__name__, 'BertAttentionBlock', 'embed_dim, heads, layer_norm_eps, dtype, device, operations', _REASON)
BertBlock = unsupported_class(__name__, 'BertBlock', 'embed_dim, intermediate_dim, heads, layer_norm_eps, dtype, device, operations', _REASON)
BertEmbeddings = unsupported_class(__name__, 'BertEmbeddings', 'vocab_size, max_position_embeddings, type_vocab_size, pad_token_id, embed_dim, layer_norm_eps, dtype, device, operations', _REASON)
BertEncoder = unsupported_class(__name__, 'BertEncoder', 'num_layers, embed_dim, intermediate_dim, heads, layer_norm_eps, dtype, device, operations', _REASON)
BertIntermediate = unsupported_class(__name__, 'BertIntermediate', 'embed_dim, intermediate_dim, dtype, device, operations', _REASON)
BertModel = unsupported_class(__name__, 'BertModel', 'config_dict, dtype, device, operations', _REASON)
BertModel_ = unsupported_class(__name__, 'BertModel_', 'config_dict, dtype, device, operations', _REASON)
BertOutput = unsupported_class(__name__, 'BertOutput', 'input_dim, output_dim, layer_norm_eps, dtype, device, operations', _REASON)
