"""ComfyUI's `comfy.text_encoders.omnigen2`, as faces: Kiln has no `omnigen2` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `omnigen2` text encoder'

Omnigen2Model = unsupported_class(__name__, 'Omnigen2Model', 'device=, dtype=, model_options=', _REASON)
Omnigen2Tokenizer = unsupported_class(__name__, 'Omnigen2Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
Qwen25_3BModel = unsupported_class(__name__, 'Qwen25_3BModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=', _REASON)
Qwen25_3BTokenizer = unsupported_class(__name__, 'Qwen25_3BTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
te = unsupported_function(__name__, 'te', 'dtype_llama=, llama_scaled_fp8=', _REASON)
