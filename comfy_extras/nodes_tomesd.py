"""ComfyUI's `comfy_extras.nodes_tomesd`, as faces: Kiln does not implement this `nodes_tomesd` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_tomesd` node yet'

TomePatchModel = unsupported_class(__name__, 'TomePatchModel', None, _REASON)
TomePatchModelExtension = unsupported_class(__name__, 'TomePatchModelExtension', None, _REASON)
bipartite_soft_matching_random2d = unsupported_function(__name__, 'bipartite_soft_matching_random2d', 'metric, w, h, sx, sy, r, no_rand=', _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
do_nothing = unsupported_function(__name__, 'do_nothing', 'x, mode=', _REASON)
get_functions = unsupported_function(__name__, 'get_functions', 'x, ratio, original_shape', _REASON)
mps_gather_workaround = unsupported_function(__name__, 'mps_gather_workaround', 'input, dim, index', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
