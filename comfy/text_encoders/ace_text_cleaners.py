"""ComfyUI's `comfy.text_encoders.ace_text_cleaners`, as faces: Kiln has no `ace_text_cleaners` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = 'Kiln has no `ace_text_cleaners` text encoder'

basic_cleaners = unsupported_function(__name__, 'basic_cleaners', 'text', _REASON)
collapse_whitespace = unsupported_function(__name__, 'collapse_whitespace', 'text', _REASON)
expand_abbreviations_multilingual = unsupported_function(__name__, 'expand_abbreviations_multilingual', 'text, lang=', _REASON)
expand_numbers_multilingual = unsupported_function(__name__, 'expand_numbers_multilingual', 'text, lang=', _REASON)
expand_symbols_multilingual = unsupported_function(__name__, 'expand_symbols_multilingual', 'text, lang=', _REASON)
japanese_to_romaji = unsupported_function(__name__, 'japanese_to_romaji', 'japanese_text', _REASON)
lowercase = unsupported_function(__name__, 'lowercase', 'text', _REASON)
multilingual_cleaners = unsupported_function(__name__, 'multilingual_cleaners', 'text, lang', _REASON)
number_to_text = unsupported_function(__name__, 'number_to_text', 'num, ordinal=', _REASON)
