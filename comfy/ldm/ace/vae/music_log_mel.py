"""ComfyUI's `comfy.ldm.ace.vae.music_log_mel`, as faces: Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules)"

LinearSpectrogram = unsupported_class(__name__, 'LinearSpectrogram', 'n_fft=, win_length=, hop_length=, center=, mode=', _REASON)
LogMelSpectrogram = unsupported_class(__name__, 'LogMelSpectrogram', 'sample_rate=, n_fft=, win_length=, hop_length=, n_mels=, center=, f_min=, f_max=', _REASON)
