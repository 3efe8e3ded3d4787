"""ComfyUI's `comfy_extras.nodes_attention_multiply`, as faces: Kiln does not implement this `nodes_attention_multiply` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_attention_multiply` node yet'

AttentionMultiplyExtension = unsupported_class(__name__, 'AttentionMultiplyExtension', None, _REASON)
CLIPAttentionMultiply = unsupported_class(__name__, 'CLIPAttentionMultiply', None, _REASON)
UNetCrossAttentionMultiply = unsupported_class(__name__, 'UNetCrossAttentionMultiply', None, _REASON)
UNetSelfAttentionMultiply = unsupported_class(__name__, 'UNetSelfAttentionMultiply', None, _REASON)
UNetTemporalAttentionMultiply = unsupported_class(__name__, 'UNetTemporalAttentionMultiply', None, _REASON)
attention_multiply = unsupported_function(__name__, 'attention_multiply', 'attn, model, q, k, v, out', _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
