"""ComfyUI's `comfy.ldm.modules.ema`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

LitEma = unsupported_class(__name__, 'LitEma', 'model, decay=, use_num_upates=', _REASON)
