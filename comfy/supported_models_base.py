"""ComfyUI's `comfy.supported_models_base`, as faces: Kiln's model families are comfy/families modules, not BASE subclasses.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln's model families are comfy/families modules, not BASE subclasses"

BASE = unsupported_class(__name__, 'BASE', 'unet_config', _REASON)
from comfy.clip_object import ClipTarget  # noqa: E402, F401 - ComfyUI's public name here
