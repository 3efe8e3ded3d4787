"""ComfyUI's `comfy.ldm.common_dit`, as faces: Kiln does not carry ComfyUI's `common_dit` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = "Kiln does not carry ComfyUI's `common_dit` network code (Kiln's models are diffusers modules)"

pad_to_patch_size = unsupported_function(__name__, 'pad_to_patch_size', 'img, patch_size=, padding_mode=', _REASON)
from comfy.rmsnorm import rms_norm  # noqa: E402, F401 - ComfyUI's public name here
