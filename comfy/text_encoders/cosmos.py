"""ComfyUI's `comfy.text_encoders.cosmos`, as faces: Kiln has no `cosmos` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `cosmos` text encoder'

CosmosT5Tokenizer = unsupported_class(__name__, 'CosmosT5Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
CosmosT5XXL = unsupported_class(__name__, 'CosmosT5XXL', 'device=, dtype=, model_options=', _REASON)
T5XXLModel = unsupported_class(__name__, 'T5XXLModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=', _REASON)
T5XXLTokenizer = unsupported_class(__name__, 'T5XXLTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
te = unsupported_function(__name__, 'te', 'dtype_t5=, t5xxl_scaled_fp8=', _REASON)
