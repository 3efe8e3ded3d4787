"""ComfyUI's `comfy_extras.nodes_lotus`, as faces: Kiln does not implement this `nodes_lotus` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_lotus` node yet'

LotusConditioning = unsupported_class(__name__, 'LotusConditioning', None, _REASON)
LotusExtension = unsupported_class(__name__, 'LotusExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
