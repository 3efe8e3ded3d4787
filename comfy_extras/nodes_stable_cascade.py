"""ComfyUI's `comfy_extras.nodes_stable_cascade`, as faces: Kiln does not implement this `nodes_stable_cascade` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_stable_cascade` node yet'

StableCascadeExtension = unsupported_class(__name__, 'StableCascadeExtension', None, _REASON)
StableCascade_EmptyLatentImage = unsupported_class(__name__, 'StableCascade_EmptyLatentImage', None, _REASON)
StableCascade_StageB_Conditioning = unsupported_class(__name__, 'StableCascade_StageB_Conditioning', None, _REASON)
StableCascade_StageC_VAEEncode = unsupported_class(__name__, 'StableCascade_StageC_VAEEncode', None, _REASON)
StableCascade_SuperResolutionControlnet = unsupported_class(__name__, 'StableCascade_SuperResolutionControlnet', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
