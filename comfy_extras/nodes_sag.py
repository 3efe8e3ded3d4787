"""ComfyUI's `comfy_extras.nodes_sag`, as faces: Kiln does not implement this `nodes_sag` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_sag` node yet'

SagExtension = unsupported_class(__name__, 'SagExtension', None, _REASON)
SelfAttentionGuidance = unsupported_class(__name__, 'SelfAttentionGuidance', None, _REASON)
attention_basic_with_sim = unsupported_function(__name__, 'attention_basic_with_sim', 'q, k, v, heads, mask=, attn_precision=', _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
create_blur_map = unsupported_function(__name__, 'create_blur_map', 'x0, attn, sigma=, threshold=', _REASON)
gaussian_blur_2d = unsupported_function(__name__, 'gaussian_blur_2d', 'img, kernel_size, sigma', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
