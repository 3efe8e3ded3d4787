"""ComfyUI's `comfy_extras.nodes_perpneg`, as faces: Kiln does not implement this `nodes_perpneg` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_perpneg` node yet'

Guider_PerpNeg = unsupported_class(__name__, 'Guider_PerpNeg', None, _REASON)
PerpNeg = unsupported_class(__name__, 'PerpNeg', None, _REASON)
PerpNegExtension = unsupported_class(__name__, 'PerpNegExtension', None, _REASON)
PerpNegGuider = unsupported_class(__name__, 'PerpNegGuider', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
perp_neg = unsupported_function(__name__, 'perp_neg', 'x, noise_pred_pos, noise_pred_neg, noise_pred_nocond, neg_scale, cond_scale', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
