"""ComfyUI's `comfy.ldm.mmaudio.vae.autoencoder`, as faces: Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules)"

AudioAutoencoder = unsupported_class(__name__, 'AudioAutoencoder', '*, mode=, need_vae_encoder=', _REASON)
MelConverter = unsupported_class(__name__, 'MelConverter', '*, sampling_rate, n_fft, num_mels, hop_size, win_size, fmin, fmax, norm_fn', _REASON)
dynamic_range_compression_torch = unsupported_function(__name__, 'dynamic_range_compression_torch', 'x, C=, clip_val=, *, norm_fn', _REASON)
spectral_normalize_torch = unsupported_function(__name__, 'spectral_normalize_torch', 'magnitudes, norm_fn', _REASON)
