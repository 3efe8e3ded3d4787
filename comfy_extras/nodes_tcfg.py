"""ComfyUI's `comfy_extras.nodes_tcfg`, as faces: Kiln does not implement this `nodes_tcfg` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_tcfg` node yet'

TCFG = unsupported_class(__name__, 'TCFG', None, _REASON)
TcfgExtension = unsupported_class(__name__, 'TcfgExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
score_tangential_damping = unsupported_function(__name__, 'score_tangential_damping', 'cond_score, uncond_score', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
