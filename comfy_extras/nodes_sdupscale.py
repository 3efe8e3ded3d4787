"""ComfyUI's `comfy_extras.nodes_sdupscale`, as faces: Kiln does not implement this `nodes_sdupscale` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_sdupscale` node yet'

SD_4XUpscale_Conditioning = unsupported_class(__name__, 'SD_4XUpscale_Conditioning', None, _REASON)
SdUpscaleExtension = unsupported_class(__name__, 'SdUpscaleExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
