"""ComfyUI's `comfy.text_encoders.wan` names over Kiln's UMT5-XXL text encoder (`comfy.text_encoders.umt5`).

`te` (ComfyUI's dtype-fixing class factory) is a face that raises UnsupportedError when used (comfy/unsupported.py):
Kiln keeps each weight in its stored dtype and builds the encoder through its CLIP loaders.
"""

from comfy.text_encoders.umt5 import UMT5XXLModel as UMT5XXlModel
from comfy.text_encoders.umt5 import UMT5XXLTokenizer as UMT5XXlTokenizer
from comfy.text_encoders.umt5 import WanT5Model, WanT5Tokenizer
from comfy.unsupported import unsupported_function

__all__ = ["UMT5XXlModel", "UMT5XXlTokenizer", "WanT5Model", "WanT5Tokenizer", "te"]

_REASON = "Kiln builds Wan's text encoder with CLIPLoader type wan, each weight in its stored dtype"

te = unsupported_function(__name__, 'te', 'dtype_t5=, t5xxl_scaled_fp8=', _REASON)
