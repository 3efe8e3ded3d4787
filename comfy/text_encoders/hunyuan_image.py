"""ComfyUI's `comfy.text_encoders.hunyuan_image`, as faces: Kiln has no `hunyuan_image` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `hunyuan_image` text encoder'

ByT5SmallModel = unsupported_class(__name__, 'ByT5SmallModel', 'device=, layer=, layer_idx=, dtype=, model_options=', _REASON)
ByT5SmallTokenizer = unsupported_class(__name__, 'ByT5SmallTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
HunyuanImageTEModel = unsupported_class(__name__, 'HunyuanImageTEModel', 'byt5=, device=, dtype=, model_options=', _REASON)
HunyuanImageTokenizer = unsupported_class(__name__, 'HunyuanImageTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
Qwen25_7BVLIModel = unsupported_class(__name__, 'Qwen25_7BVLIModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=', _REASON)
te = unsupported_function(__name__, 'te', 'byt5=, dtype_llama=, llama_scaled_fp8=', _REASON)
