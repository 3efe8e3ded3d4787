"""ComfyUI's `comfy.ldm.genmo.joint_model.rope_mixed`, as faces: Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = "Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules)"

centers = unsupported_function(__name__, 'centers', 'start, stop, num, dtype=, device=', _REASON)
compute_mixed_rotation = unsupported_function(__name__, 'compute_mixed_rotation', 'freqs, pos', _REASON)
create_position_matrix = unsupported_function(__name__, 'create_position_matrix', 'T, pH, pW, device, dtype, *, target_area=', _REASON)
