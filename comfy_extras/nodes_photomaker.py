"""ComfyUI's `comfy_extras.nodes_photomaker`, as faces: Kiln does not implement this `nodes_photomaker` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_photomaker` node yet'

FuseModule = unsupported_class(__name__, 'FuseModule', 'embed_dim, operations', _REASON)
MLP = unsupported_class(__name__, 'MLP', 'in_dim, out_dim, hidden_dim, use_residual=, operations=', _REASON)
PhotoMakerEncode = unsupported_class(__name__, 'PhotoMakerEncode', None, _REASON)
PhotoMakerIDEncoder = unsupported_class(__name__, 'PhotoMakerIDEncoder', '', _REASON)
PhotoMakerLoader = unsupported_class(__name__, 'PhotoMakerLoader', None, _REASON)
PhotomakerExtension = unsupported_class(__name__, 'PhotomakerExtension', None, _REASON)
VISION_CONFIG_DICT = UnsupportedValue(__name__, 'VISION_CONFIG_DICT', _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
