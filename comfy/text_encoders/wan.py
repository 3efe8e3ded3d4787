"""ComfyUI's `comfy.text_encoders.wan`, as faces: Kiln has no `wan` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `wan` text encoder'

UMT5XXlModel = unsupported_class(__name__, 'UMT5XXlModel', 'device=, layer=, layer_idx=, dtype=, model_options=', _REASON)
UMT5XXlTokenizer = unsupported_class(__name__, 'UMT5XXlTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
WanT5Model = unsupported_class(__name__, 'WanT5Model', 'device=, dtype=, model_options=, **kwargs', _REASON)
WanT5Tokenizer = unsupported_class(__name__, 'WanT5Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
te = unsupported_function(__name__, 'te', 'dtype_t5=, t5xxl_scaled_fp8=', _REASON)
