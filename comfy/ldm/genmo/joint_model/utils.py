"""ComfyUI's `comfy.ldm.genmo.joint_model.utils`, as faces: Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules)"

AttentionPool = unsupported_class(__name__, 'AttentionPool', 'embed_dim, num_heads, output_dim=, device=, dtype=, operations=', _REASON)
modulate = unsupported_function(__name__, 'modulate', 'x, shift, scale', _REASON)
pool_tokens = unsupported_function(__name__, 'pool_tokens', 'x, mask, *, keepdim=', _REASON)
