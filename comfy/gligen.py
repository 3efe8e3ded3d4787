"""ComfyUI's `comfy.gligen`: GLIGEN's position net and gated self-attention, faces over comfy/guidance/gligen.py.
The two fuser variants ComfyUI defines but never loads are faces that raise UnsupportedError when used."""

import comfy.ops
from comfy.guidance.gligen import (  # noqa: F401  ComfyUI's public names
    FourierEmbedder,
    GatedSelfAttentionDense,
    Gligen,
    PositionNet,
    load_gligen,
)
from comfy.unsupported import unsupported_class

_REASON = "ComfyUI's GLIGEN loader never builds this fuser variant, and neither does Kiln"

GatedCrossAttentionDense = unsupported_class(__name__, 'GatedCrossAttentionDense', 'query_dim, context_dim, n_heads, d_head', _REASON)
GatedSelfAttentionDense2 = unsupported_class(__name__, 'GatedSelfAttentionDense2', 'query_dim, context_dim, n_heads, d_head', _REASON)
ops = comfy.ops.manual_cast
