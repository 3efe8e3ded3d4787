"""ComfyUI's `comfy.text_encoders.spiece_tokenizer`, as faces: Kiln has no `spiece_tokenizer` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no `spiece_tokenizer` text encoder'

SPieceTokenizer = unsupported_class(__name__, 'SPieceTokenizer', 'tokenizer_path, add_bos=, add_eos=', _REASON)
