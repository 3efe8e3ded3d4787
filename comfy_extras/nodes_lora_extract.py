"""ComfyUI's `comfy_extras.nodes_lora_extract`, as faces: Kiln does not implement this `nodes_lora_extract` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_lora_extract` node yet'

CLAMP_QUANTILE = UnsupportedValue(__name__, 'CLAMP_QUANTILE', _REASON)
LORAType = unsupported_class(__name__, 'LORAType', None, _REASON)
LORA_TYPES = UnsupportedValue(__name__, 'LORA_TYPES', _REASON)
LoraSave = unsupported_class(__name__, 'LoraSave', None, _REASON)
LoraSaveExtension = unsupported_class(__name__, 'LoraSaveExtension', None, _REASON)
calc_lora_model = unsupported_function(__name__, 'calc_lora_model', 'model_diff, rank, prefix_model, prefix_lora, output_sd, lora_type, bias_diff=', _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
extract_lora = unsupported_function(__name__, 'extract_lora', 'diff, rank', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
