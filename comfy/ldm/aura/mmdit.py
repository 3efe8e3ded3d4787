"""ComfyUI's `comfy.ldm.aura.mmdit`, as faces: Kiln does not carry ComfyUI's `aura` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `aura` network code (Kiln's models are diffusers modules)"

DiTBlock = unsupported_class(__name__, 'DiTBlock', 'dim, heads=, global_conddim=, dtype=, device=, operations=', _REASON)
DoubleAttention = unsupported_class(__name__, 'DoubleAttention', 'dim, n_heads, mh_qknorm=, dtype=, device=, operations=', _REASON)
MLP = unsupported_class(__name__, 'MLP', 'dim, hidden_dim=, dtype=, device=, operations=', _REASON)
MMDiT = unsupported_class(__name__, 'MMDiT', 'in_channels=, out_channels=, patch_size=, dim=, n_layers=, n_double_layers=, n_heads=, global_conddim=, cond_seq_dim=, max_seq=, device=, dtype=, operations=', _REASON)
MMDiTBlock = unsupported_class(__name__, 'MMDiTBlock', 'dim, heads=, global_conddim=, is_last=, dtype=, device=, operations=', _REASON)
MultiHeadLayerNorm = unsupported_class(__name__, 'MultiHeadLayerNorm', 'hidden_size=, eps=, dtype=, device=', _REASON)
SingleAttention = unsupported_class(__name__, 'SingleAttention', 'dim, n_heads, mh_qknorm=, dtype=, device=, operations=', _REASON)
TimestepEmbedder = unsupported_class(__name__, 'TimestepEmbedder', 'hidden_size, frequency_embedding_size=, dtype=, device=, operations=', _REASON)
find_multiple = unsupported_function(__name__, 'find_multiple', 'n, k', _REASON)
modulate = unsupported_function(__name__, 'modulate', 'x, shift, scale', _REASON)
