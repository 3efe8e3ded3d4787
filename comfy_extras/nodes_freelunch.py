"""ComfyUI's `comfy_extras.nodes_freelunch`, as faces: Kiln does not implement this `nodes_freelunch` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_freelunch` node yet'

Fourier_filter = unsupported_function(__name__, 'Fourier_filter', 'x, threshold, scale', _REASON)
FreeU = unsupported_class(__name__, 'FreeU', None, _REASON)
FreeU_V2 = unsupported_class(__name__, 'FreeU_V2', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
