"""ComfyUI's `comfy.gligen`, as faces: Kiln has no GLIGEN.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln has no GLIGEN"

FourierEmbedder = unsupported_class(__name__, 'FourierEmbedder', 'num_freqs=, temperature=', _REASON)
GatedCrossAttentionDense = unsupported_class(__name__, 'GatedCrossAttentionDense', 'query_dim, context_dim, n_heads, d_head', _REASON)
GatedSelfAttentionDense = unsupported_class(__name__, 'GatedSelfAttentionDense', 'query_dim, context_dim, n_heads, d_head', _REASON)
GatedSelfAttentionDense2 = unsupported_class(__name__, 'GatedSelfAttentionDense2', 'query_dim, context_dim, n_heads, d_head', _REASON)
Gligen = unsupported_class(__name__, 'Gligen', 'modules, position_net, key_dim', _REASON)
PositionNet = unsupported_class(__name__, 'PositionNet', 'in_dim, out_dim, fourier_freqs=', _REASON)
load_gligen = unsupported_function(__name__, 'load_gligen', 'sd', _REASON)
ops = comfy.ops.disable_weight_init
