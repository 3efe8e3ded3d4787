"""ComfyUI's `comfy.ldm.genmo.joint_model.temporal_rope`, as faces: Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = "Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules)"

apply_rotary_emb_qk_real = unsupported_function(__name__, 'apply_rotary_emb_qk_real', 'xqk, freqs_cos, freqs_sin', _REASON)
