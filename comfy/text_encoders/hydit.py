"""ComfyUI's `comfy.text_encoders.hydit`, as faces: Kiln has no `hydit` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no `hydit` text encoder'

HyditBertModel = unsupported_class(__name__, 'HyditBertModel', 'device=, layer=, layer_idx=, dtype=, model_options=', _REASON)
HyditBertTokenizer = unsupported_class(__name__, 'HyditBertTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
HyditModel = unsupported_class(__name__, 'HyditModel', 'device=, dtype=, model_options=', _REASON)
HyditTokenizer = unsupported_class(__name__, 'HyditTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
MT5XLModel = unsupported_class(__name__, 'MT5XLModel', 'device=, layer=, layer_idx=, dtype=, model_options=', _REASON)
MT5XLTokenizer = unsupported_class(__name__, 'MT5XLTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
