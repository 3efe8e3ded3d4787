"""ComfyUI's `comfy_extras.nodes_hidream`, as faces: Kiln does not implement this `nodes_hidream` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_hidream` node yet'

CLIPTextEncodeHiDream = unsupported_class(__name__, 'CLIPTextEncodeHiDream', None, _REASON)
HiDreamExtension = unsupported_class(__name__, 'HiDreamExtension', None, _REASON)
QuadrupleCLIPLoader = unsupported_class(__name__, 'QuadrupleCLIPLoader', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
