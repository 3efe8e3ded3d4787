"""ComfyUI's `comfy.ldm.flux.layers`, as faces: Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules)"

DoubleStreamBlock = unsupported_class(__name__, 'DoubleStreamBlock', 'hidden_size, num_heads, mlp_ratio, qkv_bias=, flipped_img_txt=, dtype=, device=, operations=', _REASON)
EmbedND = unsupported_class(__name__, 'EmbedND', 'dim, theta, axes_dim', _REASON)
LastLayer = unsupported_class(__name__, 'LastLayer', 'hidden_size, patch_size, out_channels, dtype=, device=, operations=', _REASON)
MLPEmbedder = unsupported_class(__name__, 'MLPEmbedder', 'in_dim, hidden_dim, dtype=, device=, operations=', _REASON)
Modulation = unsupported_class(__name__, 'Modulation', 'dim, double, dtype=, device=, operations=', _REASON)
ModulationOut = unsupported_class(__name__, 'ModulationOut', None, _REASON)
QKNorm = unsupported_class(__name__, 'QKNorm', 'dim, dtype=, device=, operations=', _REASON)
RMSNorm = unsupported_class(__name__, 'RMSNorm', 'dim, dtype=, device=, operations=', _REASON)
SelfAttention = unsupported_class(__name__, 'SelfAttention', 'dim, num_heads=, qkv_bias=, dtype=, device=, operations=', _REASON)
SingleStreamBlock = unsupported_class(__name__, 'SingleStreamBlock', 'hidden_size, num_heads, mlp_ratio=, qk_scale=, dtype=, device=, operations=', _REASON)
apply_mod = unsupported_function(__name__, 'apply_mod', 'tensor, m_mult, m_add=, modulation_dims=', _REASON)
timestep_embedding = unsupported_function(__name__, 'timestep_embedding', 't, dim, max_period=, time_factor=', _REASON)
