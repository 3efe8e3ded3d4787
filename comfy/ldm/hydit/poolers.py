"""ComfyUI's `comfy.ldm.hydit.poolers`, as faces: Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `hydit` network code (Kiln's models are diffusers modules)"

AttentionPool = unsupported_class(__name__, 'AttentionPool', 'spacial_dim, embed_dim, num_heads, output_dim=, dtype=, device=, operations=', _REASON)
