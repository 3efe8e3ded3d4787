"""ComfyUI's `comfy.audio_encoders.audio_encoders`, as faces: Kiln has no audio or DINO image encoders.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no audio or DINO image encoders'

AudioEncoderModel = unsupported_class(__name__, 'AudioEncoderModel', 'config', _REASON)
load_audio_encoder_from_sd = unsupported_function(__name__, 'load_audio_encoder_from_sd', 'sd, prefix=', _REASON)
