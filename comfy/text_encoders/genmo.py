"""ComfyUI's `comfy.text_encoders.genmo`, as faces: Kiln has no `genmo` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `genmo` text encoder'

MochiT5Tokenizer = unsupported_class(__name__, 'MochiT5Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
MochiT5XXL = unsupported_class(__name__, 'MochiT5XXL', 'device=, dtype=, model_options=', _REASON)
T5XXLModel = unsupported_class(__name__, 'T5XXLModel', '**kwargs', _REASON)
T5XXLTokenizer = unsupported_class(__name__, 'T5XXLTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
mochi_te = unsupported_function(__name__, 'mochi_te', 'dtype_t5=, t5xxl_scaled_fp8=', _REASON)
