"""ComfyUI's `comfy.ldm.cosmos.cosmos_tokenizer.patching`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

Patcher = unsupported_class(__name__, 'Patcher', 'patch_size=, patch_method=', _REASON)
Patcher3D = unsupported_class(__name__, 'Patcher3D', 'patch_size=, patch_method=', _REASON)
UnPatcher = unsupported_class(__name__, 'UnPatcher', 'patch_size=, patch_method=', _REASON)
UnPatcher3D = unsupported_class(__name__, 'UnPatcher3D', 'patch_size=, patch_method=', _REASON)
