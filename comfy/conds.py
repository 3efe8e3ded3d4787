"""ComfyUI's `comfy.conds`, as faces: Kiln has no equivalent of this ComfyUI internal.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no equivalent of this ComfyUI internal'

CONDConstant = unsupported_class(__name__, 'CONDConstant', 'cond', _REASON)
CONDCrossAttn = unsupported_class(__name__, 'CONDCrossAttn', None, _REASON)
CONDList = unsupported_class(__name__, 'CONDList', 'cond', _REASON)
CONDNoiseShape = unsupported_class(__name__, 'CONDNoiseShape', None, _REASON)
CONDRegular = unsupported_class(__name__, 'CONDRegular', 'cond', _REASON)
