"""ComfyUI's `comfy_extras.nodes_hypertile`, as faces: Kiln does not implement this `nodes_hypertile` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_hypertile` node yet'

HyperTile = unsupported_class(__name__, 'HyperTile', None, _REASON)
HyperTileExtension = unsupported_class(__name__, 'HyperTileExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
random_divisor = unsupported_function(__name__, 'random_divisor', 'value, min_value, max_options=', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
