"""ComfyUI's `comfy_extras.nodes_chroma_radiance`, as faces: Kiln does not implement this `nodes_chroma_radiance` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_chroma_radiance` node yet'

ChromaRadianceExtension = unsupported_class(__name__, 'ChromaRadianceExtension', None, _REASON)
ChromaRadianceOptions = unsupported_class(__name__, 'ChromaRadianceOptions', None, _REASON)
EmptyChromaRadianceLatentImage = unsupported_class(__name__, 'EmptyChromaRadianceLatentImage', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
