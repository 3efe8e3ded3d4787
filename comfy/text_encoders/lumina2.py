"""ComfyUI's `comfy.text_encoders.lumina2`, as faces: Kiln has no `lumina2` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `lumina2` text encoder'

Gemma2BTokenizer = unsupported_class(__name__, 'Gemma2BTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
Gemma2_2BModel = unsupported_class(__name__, 'Gemma2_2BModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=', _REASON)
Gemma3_4BModel = unsupported_class(__name__, 'Gemma3_4BModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=', _REASON)
Gemma3_4BTokenizer = unsupported_class(__name__, 'Gemma3_4BTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
LuminaModel = unsupported_class(__name__, 'LuminaModel', 'device=, dtype=, model_options=, name=, clip_model=', _REASON)
LuminaTokenizer = unsupported_class(__name__, 'LuminaTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
NTokenizer = unsupported_class(__name__, 'NTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
te = unsupported_function(__name__, 'te', 'dtype_llama=, llama_scaled_fp8=, model_type=', _REASON)
