"""ComfyUI's `comfy.audio_encoders.whisper`, as faces: Kiln has no audio or DINO image encoders.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no audio or DINO image encoders'

AudioEncoder = unsupported_class(__name__, 'AudioEncoder', 'n_mels=, n_ctx=, n_state=, n_head=, n_layer=, dtype=, device=, operations=', _REASON)
EncoderLayer = unsupported_class(__name__, 'EncoderLayer', 'd_model, n_heads, d_ff, dtype=, device=, operations=', _REASON)
MultiHeadAttention = unsupported_class(__name__, 'MultiHeadAttention', 'd_model, n_heads, dtype=, device=, operations=', _REASON)
WhisperFeatureExtractor = unsupported_class(__name__, 'WhisperFeatureExtractor', 'n_mels=, device=', _REASON)
WhisperLargeV3 = unsupported_class(__name__, 'WhisperLargeV3', 'n_mels=, n_audio_ctx=, n_audio_state=, n_audio_head=, n_audio_layer=, dtype=, device=, operations=', _REASON)
