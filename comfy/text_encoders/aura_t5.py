"""ComfyUI's `comfy.text_encoders.aura_t5`, as faces: Kiln has no `aura_t5` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no `aura_t5` text encoder'

AuraT5Model = unsupported_class(__name__, 'AuraT5Model', 'device=, dtype=, model_options=, **kwargs', _REASON)
AuraT5Tokenizer = unsupported_class(__name__, 'AuraT5Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
PT5XlModel = unsupported_class(__name__, 'PT5XlModel', 'device=, layer=, layer_idx=, dtype=, model_options=', _REASON)
PT5XlTokenizer = unsupported_class(__name__, 'PT5XlTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
