"""ComfyUI's `comfy.text_encoders.qwen_image`, as faces: Kiln has no `qwen_image` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `qwen_image` text encoder'

Qwen25_7BVLIModel = unsupported_class(__name__, 'Qwen25_7BVLIModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=', _REASON)
Qwen25_7BVLITokenizer = unsupported_class(__name__, 'Qwen25_7BVLITokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
QwenImageTEModel = unsupported_class(__name__, 'QwenImageTEModel', 'device=, dtype=, model_options=', _REASON)
QwenImageTokenizer = unsupported_class(__name__, 'QwenImageTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
te = unsupported_function(__name__, 'te', 'dtype_llama=, llama_scaled_fp8=', _REASON)
