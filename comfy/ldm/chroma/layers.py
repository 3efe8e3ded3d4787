"""ComfyUI's `comfy.ldm.chroma.layers`, as faces: Kiln does not carry ComfyUI's `chroma` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `chroma` network code (Kiln's models are diffusers modules)"

Approximator = unsupported_class(__name__, 'Approximator', 'in_dim, out_dim, hidden_dim, n_layers=, dtype=, device=, operations=', _REASON)
ChromaModulationOut = unsupported_class(__name__, 'ChromaModulationOut', None, _REASON)
DoubleStreamBlock = unsupported_class(__name__, 'DoubleStreamBlock', 'hidden_size, num_heads, mlp_ratio, qkv_bias=, flipped_img_txt=, dtype=, device=, operations=', _REASON)
LastLayer = unsupported_class(__name__, 'LastLayer', 'hidden_size, patch_size, out_channels, dtype=, device=, operations=', _REASON)
SingleStreamBlock = unsupported_class(__name__, 'SingleStreamBlock', 'hidden_size, num_heads, mlp_ratio=, qk_scale=, dtype=, device=, operations=', _REASON)
