"""ComfyUI's `comfy_extras.nodes_context_windows`, as faces: Kiln does not implement this `nodes_context_windows` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_context_windows` node yet'

ContextWindowsExtension = unsupported_class(__name__, 'ContextWindowsExtension', None, _REASON)
ContextWindowsManualNode = unsupported_class(__name__, 'ContextWindowsManualNode', None, _REASON)
WanContextWindowsManualNode = unsupported_class(__name__, 'WanContextWindowsManualNode', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
