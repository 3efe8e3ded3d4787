"""ComfyUI's `comfy.ldm.chroma.model`, as faces: Kiln does not carry ComfyUI's `chroma` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `chroma` network code (Kiln's models are diffusers modules)"

Chroma = unsupported_class(__name__, 'Chroma', 'image_model=, final_layer=, dtype=, device=, operations=, **kwargs', _REASON)
ChromaParams = unsupported_class(__name__, 'ChromaParams', None, _REASON)
