"""ComfyUI's `comfy_extras.nodes_gits`, as faces: Kiln does not implement this `nodes_gits` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_gits` node yet'

GITSScheduler = unsupported_class(__name__, 'GITSScheduler', None, _REASON)
GITSSchedulerExtension = unsupported_class(__name__, 'GITSSchedulerExtension', None, _REASON)
NOISE_LEVELS = UnsupportedValue(__name__, 'NOISE_LEVELS', _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
loglinear_interp = unsupported_function(__name__, 'loglinear_interp', 't_steps, num_steps', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
