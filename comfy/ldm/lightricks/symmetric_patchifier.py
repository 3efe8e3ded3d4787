"""ComfyUI's `comfy.ldm.lightricks.symmetric_patchifier`, as faces: Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules)"

Patchifier = unsupported_class(__name__, 'Patchifier', 'patch_size', _REASON)
SymmetricPatchifier = unsupported_class(__name__, 'SymmetricPatchifier', None, _REASON)
latent_to_pixel_coords = unsupported_function(__name__, 'latent_to_pixel_coords', 'latent_coords, scale_factors, causal_fix=', _REASON)
