"""ComfyUI's `comfy.pixel_space_convert`, as faces: Kiln has no pixel-space models.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln has no pixel-space models"

PixelspaceConversionVAE = unsupported_class(__name__, 'PixelspaceConversionVAE', '', _REASON)
