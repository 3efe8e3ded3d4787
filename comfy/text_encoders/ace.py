"""ComfyUI's `comfy.text_encoders.ace`, as faces: Kiln has no `ace` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class

_REASON = 'Kiln has no `ace` text encoder'

AceT5Model = unsupported_class(__name__, 'AceT5Model', 'device=, dtype=, model_options=, **kwargs', _REASON)
AceT5Tokenizer = unsupported_class(__name__, 'AceT5Tokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
DEFAULT_VOCAB_FILE = UnsupportedValue(__name__, 'DEFAULT_VOCAB_FILE', _REASON)
LyricsTokenizer = unsupported_class(__name__, 'LyricsTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
SUPPORT_LANGUAGES = UnsupportedValue(__name__, 'SUPPORT_LANGUAGES', _REASON)
UMT5BaseModel = unsupported_class(__name__, 'UMT5BaseModel', 'device=, layer=, layer_idx=, dtype=, model_options=', _REASON)
UMT5BaseTokenizer = unsupported_class(__name__, 'UMT5BaseTokenizer', 'embedding_directory=, tokenizer_data=', _REASON)
VoiceBpeTokenizer = unsupported_class(__name__, 'VoiceBpeTokenizer', 'vocab_file=', _REASON)
structure_pattern = UnsupportedValue(__name__, 'structure_pattern', _REASON)
