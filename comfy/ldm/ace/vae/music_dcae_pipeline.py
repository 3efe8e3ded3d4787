"""ComfyUI's `comfy.ldm.ace.vae.music_dcae_pipeline`, as faces: Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules)"

MusicDCAE = unsupported_class(__name__, 'MusicDCAE', 'source_sample_rate=, dcae_config=, vocoder_config=', _REASON)
