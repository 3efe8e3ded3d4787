"""ComfyUI's `comfy.ldm.hunyuan3d.model`, as faces: Kiln does not carry ComfyUI's `hunyuan3d` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `hunyuan3d` network code (Kiln's models are diffusers modules)"

Hunyuan3Dv2 = unsupported_class(__name__, 'Hunyuan3Dv2', 'in_channels=, context_in_dim=, hidden_size=, mlp_ratio=, num_heads=, depth=, depth_single_blocks=, qkv_bias=, guidance_embed=, image_model=, dtype=, device=, operations=', _REASON)
