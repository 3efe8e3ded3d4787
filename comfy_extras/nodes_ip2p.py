"""ComfyUI's `comfy_extras.nodes_ip2p`, as faces: Kiln does not implement this `nodes_ip2p` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_ip2p` node yet'

InstructPix2PixExtension = unsupported_class(__name__, 'InstructPix2PixExtension', None, _REASON)
InstructPixToPixConditioning = unsupported_class(__name__, 'InstructPixToPixConditioning', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
