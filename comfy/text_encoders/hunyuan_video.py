"""ComfyUI's `comfy.text_encoders.hunyuan_video`, as faces: Kiln has no `hunyuan_video` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `hunyuan_video` text encoder'

HunyuanVideoClipModel = unsupported_class(__name__, 'HunyuanVideoClipModel', 'dtype_llama=, device=, dtype=, model_options=', _REASON)
HunyuanVideoTokenizer = unsupported_class(__name__, 'HunyuanVideoTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
LLAMA3Tokenizer = unsupported_class(__name__, 'LLAMA3Tokenizer', 'embedding_directory=, tokenizer_data=, min_length=, pad_token=', _REASON)
LLAMAModel = unsupported_class(__name__, 'LLAMAModel', 'device=, layer=, layer_idx=, dtype=, attention_mask=, model_options=, special_tokens=', _REASON)
hunyuan_video_clip = unsupported_function(__name__, 'hunyuan_video_clip', 'dtype_llama=, llama_scaled_fp8=', _REASON)
llama_detect = unsupported_function(__name__, 'llama_detect', 'state_dict, prefix=', _REASON)
