"""ComfyUI's `comfy.ldm.chroma_radiance.layers`, as faces: Kiln does not carry ComfyUI's `chroma_radiance` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `chroma_radiance` network code (Kiln's models are diffusers modules)"

NerfEmbedder = unsupported_class(__name__, 'NerfEmbedder', 'in_channels, hidden_size_input, max_freqs, dtype=, device=, operations=', _REASON)
NerfFinalLayer = unsupported_class(__name__, 'NerfFinalLayer', 'hidden_size, out_channels, dtype=, device=, operations=', _REASON)
NerfFinalLayerConv = unsupported_class(__name__, 'NerfFinalLayerConv', 'hidden_size, out_channels, dtype=, device=, operations=', _REASON)
NerfGLUBlock = unsupported_class(__name__, 'NerfGLUBlock', 'hidden_size_s, hidden_size_x, mlp_ratio, dtype=, device=, operations=', _REASON)
