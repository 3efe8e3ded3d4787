"""ComfyUI's `comfy.text_encoders.hidream`, as faces: Kiln has no `hidream` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `hidream` text encoder'

HiDreamTEModel = unsupported_class(__name__, 'HiDreamTEModel', 'clip_l=, clip_g=, t5=, llama=, dtype_t5=, dtype_llama=, device=, dtype=, model_options=', _REASON)
HiDreamTokenizer = unsupported_class(__name__, 'HiDreamTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
hidream_clip = unsupported_function(__name__, 'hidream_clip', 'clip_l=, clip_g=, t5=, llama=, dtype_t5=, dtype_llama=, t5xxl_scaled_fp8=, llama_scaled_fp8=', _REASON)
