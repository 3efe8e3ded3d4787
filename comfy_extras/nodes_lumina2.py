"""ComfyUI's `comfy_extras.nodes_lumina2`, as faces: Kiln does not implement this `nodes_lumina2` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_lumina2` node yet'

CLIPTextEncodeLumina2 = unsupported_class(__name__, 'CLIPTextEncodeLumina2', None, _REASON)
Lumina2Extension = unsupported_class(__name__, 'Lumina2Extension', None, _REASON)
RenormCFG = unsupported_class(__name__, 'RenormCFG', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
