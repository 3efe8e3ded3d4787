"""ComfyUI's `comfy.text_encoders.sa_t5`, as faces: Kiln has no `sa_t5` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no `sa_t5` text encoder'

SAT5Model = unsupported_class(__name__, 'SAT5Model', 'device=, dtype=, model_options=, **kwargs', _REASON)
SAT5Tokenizer = unsupported_class(__name__, 'SAT5Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
T5BaseModel = unsupported_class(__name__, 'T5BaseModel', 'device=, layer=, layer_idx=, dtype=, model_options=', _REASON)
T5BaseTokenizer = unsupported_class(__name__, 'T5BaseTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
