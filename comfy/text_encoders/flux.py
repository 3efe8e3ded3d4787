"""ComfyUI's `comfy.text_encoders.flux`, as faces: Kiln has no `flux` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `flux` text encoder'

FluxClipModel = unsupported_class(__name__, 'FluxClipModel', 'dtype_t5=, device=, dtype=, model_options=', "Kiln's FLUX text encoder is comfy.text_encoders.flux_clip.FluxClipModel, built from family configs")
from comfy.text_encoders.flux_clip import FluxTokenizer  # noqa: E402, F401 - ComfyUI's public name here

T5XXLTokenizer = unsupported_class(__name__, 'T5XXLTokenizer', 'embedding_directory=, tokenizer_data=', "Kiln's T5 tokenizer is comfy.text_encoders.t5_tokenization.T5XXLTokenizer")
flux_clip = unsupported_function(__name__, 'flux_clip', 'dtype_t5=, t5xxl_scaled_fp8=', _REASON)
