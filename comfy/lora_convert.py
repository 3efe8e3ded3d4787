"""ComfyUI's `comfy.lora_convert`, as faces: Kiln reads LoRA formats with comfy.lora's own key tables.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = "Kiln reads LoRA formats with comfy.lora's own key tables"

convert_lora = unsupported_function(__name__, 'convert_lora', 'sd', _REASON)
convert_lora_bfl_control = unsupported_function(__name__, 'convert_lora_bfl_control', 'sd', _REASON)
convert_lora_wan_fun = unsupported_function(__name__, 'convert_lora_wan_fun', 'sd', _REASON)
convert_uso_lora = unsupported_function(__name__, 'convert_uso_lora', 'sd', _REASON)
