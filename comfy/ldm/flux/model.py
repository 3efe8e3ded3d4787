"""ComfyUI's `comfy.ldm.flux.model`, as faces: Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules)"

Flux = unsupported_class(__name__, 'Flux', 'image_model=, final_layer=, dtype=, device=, operations=, **kwargs', _REASON)
FluxParams = unsupported_class(__name__, 'FluxParams', None, _REASON)
