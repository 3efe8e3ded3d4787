"""ComfyUI's `comfy.ldm.chroma_radiance.model`, as faces: Kiln does not carry ComfyUI's `chroma_radiance` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `chroma_radiance` network code (Kiln's models are diffusers modules)"

ChromaRadiance = unsupported_class(__name__, 'ChromaRadiance', 'image_model=, final_layer=, dtype=, device=, operations=, **kwargs', _REASON)
ChromaRadianceParams = unsupported_class(__name__, 'ChromaRadianceParams', None, _REASON)
