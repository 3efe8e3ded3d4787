"""ComfyUI's `comfy.text_encoders.pixart_t5`, as faces: Kiln has no `pixart_t5` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `pixart_t5` text encoder'

PixArtT5XXL = unsupported_class(__name__, 'PixArtT5XXL', 'device=, dtype=, model_options=', _REASON)
PixArtTokenizer = unsupported_class(__name__, 'PixArtTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
T5XXLModel = unsupported_class(__name__, 'T5XXLModel', '**kwargs', _REASON)
T5XXLTokenizer = unsupported_class(__name__, 'T5XXLTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
pixart_te = unsupported_function(__name__, 'pixart_te', 'dtype_t5=, t5xxl_scaled_fp8=', _REASON)
