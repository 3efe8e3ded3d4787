"""ComfyUI's `comfy.text_encoders.long_clipl`, as faces: Kiln has no `long_clipl` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = 'Kiln has no `long_clipl` text encoder'

model_options_long_clip = unsupported_function(__name__, 'model_options_long_clip', 'sd, tokenizer_data, model_options', _REASON)
