"""ComfyUI's `comfy.supported_models_base`, as faces: Kiln has no equivalent of this ComfyUI internal.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln has no equivalent of this ComfyUI internal'

BASE = unsupported_class(__name__, 'BASE', 'unet_config', _REASON)
from comfy.clip_object import ClipTarget  # noqa: E402, F401 - ComfyUI's public name here
