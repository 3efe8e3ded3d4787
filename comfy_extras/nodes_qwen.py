"""ComfyUI's `comfy_extras.nodes_qwen`, as faces: Kiln does not implement this `nodes_qwen` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_qwen` node yet'

QwenExtension = unsupported_class(__name__, 'QwenExtension', None, _REASON)
TextEncodeQwenImageEdit = unsupported_class(__name__, 'TextEncodeQwenImageEdit', None, _REASON)
TextEncodeQwenImageEditPlus = unsupported_class(__name__, 'TextEncodeQwenImageEditPlus', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
