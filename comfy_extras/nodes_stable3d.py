"""ComfyUI's `comfy_extras.nodes_stable3d`, as faces: Kiln does not implement this `nodes_stable3d` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_stable3d` node yet'

SV3D_Conditioning = unsupported_class(__name__, 'SV3D_Conditioning', None, _REASON)
Stable3DExtension = unsupported_class(__name__, 'Stable3DExtension', None, _REASON)
StableZero123_Conditioning = unsupported_class(__name__, 'StableZero123_Conditioning', None, _REASON)
StableZero123_Conditioning_Batched = unsupported_class(__name__, 'StableZero123_Conditioning_Batched', None, _REASON)
camera_embeddings = unsupported_function(__name__, 'camera_embeddings', 'elevation, azimuth', _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
