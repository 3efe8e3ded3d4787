"""ComfyUI's `comfy.ldm.cascade.controlnet`, as faces: Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules)"

CNetResBlock = unsupported_class(__name__, 'CNetResBlock', 'c, dtype=, device=, operations=', _REASON)
ControlNet = unsupported_class(__name__, 'ControlNet', 'c_in=, c_proj=, proj_blocks=, bottleneck_mode=, dtype=, device=, operations=', _REASON)
