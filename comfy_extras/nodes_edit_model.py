"""ComfyUI's `comfy_extras.nodes_edit_model`, as faces: Kiln does not implement this `nodes_edit_model` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_edit_model` node yet'

EditModelExtension = unsupported_class(__name__, 'EditModelExtension', None, _REASON)
ReferenceLatent = unsupported_class(__name__, 'ReferenceLatent', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
