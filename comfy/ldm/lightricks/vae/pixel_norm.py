"""ComfyUI's `comfy.ldm.lightricks.vae.pixel_norm`, as faces: Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules)"

PixelNorm = unsupported_class(__name__, 'PixelNorm', 'dim=, eps=', _REASON)
