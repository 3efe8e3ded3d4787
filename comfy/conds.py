"""ComfyUI's `comfy.conds`, as faces: Kiln passes conditioning to its models as tensors, not as ComfyUI's CONDRegular/CONDCrossAttn objects.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln passes conditioning to its models as tensors, not as ComfyUI's CONDRegular/CONDCrossAttn objects"

CONDConstant = unsupported_class(__name__, 'CONDConstant', 'cond', _REASON)
CONDCrossAttn = unsupported_class(__name__, 'CONDCrossAttn', None, _REASON)
CONDList = unsupported_class(__name__, 'CONDList', 'cond', _REASON)
CONDNoiseShape = unsupported_class(__name__, 'CONDNoiseShape', None, _REASON)
CONDRegular = unsupported_class(__name__, 'CONDRegular', 'cond', _REASON)
