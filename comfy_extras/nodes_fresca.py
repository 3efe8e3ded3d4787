"""ComfyUI's `comfy_extras.nodes_fresca`, as faces: Kiln does not implement this `nodes_fresca` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_fresca` node yet'

Fourier_filter = unsupported_function(__name__, 'Fourier_filter', 'x, scale_low=, scale_high=, freq_cutoff=', _REASON)
FreSca = unsupported_class(__name__, 'FreSca', None, _REASON)
FreScaExtension = unsupported_class(__name__, 'FreScaExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
