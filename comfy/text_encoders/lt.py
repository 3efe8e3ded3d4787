"""ComfyUI's `comfy.text_encoders.lt`, as faces: Kiln has no `lt` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `lt` text encoder'

LTXVT5Tokenizer = unsupported_class(__name__, 'LTXVT5Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
T5XXLTokenizer = unsupported_class(__name__, 'T5XXLTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
ltxv_te = unsupported_function(__name__, 'ltxv_te', '*args, **kwargs', _REASON)
