"""ComfyUI's `comfy.ldm.cascade.common`, as faces: Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules)"

Attention2D = unsupported_class(__name__, 'Attention2D', 'c, nhead, dropout=, dtype=, device=, operations=', _REASON)
AttnBlock = unsupported_class(__name__, 'AttnBlock', 'c, c_cond, nhead, self_attn=, dropout=, dtype=, device=, operations=', _REASON)
FeedForwardBlock = unsupported_class(__name__, 'FeedForwardBlock', 'c, dropout=, dtype=, device=, operations=', _REASON)
GlobalResponseNorm = unsupported_class(__name__, 'GlobalResponseNorm', 'dim, dtype=, device=', _REASON)
LayerNorm2d_op = unsupported_function(__name__, 'LayerNorm2d_op', 'operations', _REASON)
OptimizedAttention = unsupported_class(__name__, 'OptimizedAttention', 'c, nhead, dropout=, dtype=, device=, operations=', _REASON)
ResBlock = unsupported_class(__name__, 'ResBlock', 'c, c_skip=, kernel_size=, dropout=, dtype=, device=, operations=', _REASON)
TimestepBlock = unsupported_class(__name__, 'TimestepBlock', 'c, c_timestep, conds=, dtype=, device=, operations=', _REASON)
