"""ComfyUI's `comfy_extras.nodes_ace`, as faces: Kiln does not implement this `nodes_ace` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_ace` node yet'

AceExtension = unsupported_class(__name__, 'AceExtension', None, _REASON)
EmptyAceStepLatentAudio = unsupported_class(__name__, 'EmptyAceStepLatentAudio', None, _REASON)
TextEncodeAceStepAudio = unsupported_class(__name__, 'TextEncodeAceStepAudio', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
