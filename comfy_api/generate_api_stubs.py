"""ComfyUI's `comfy_api.generate_api_stubs`, as faces: ComfyUI's stub-generation script.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_function

_REASON = "ComfyUI's stub-generation script"

generate_stubs_for_module = unsupported_function(__name__, 'generate_stubs_for_module', 'module_name', _REASON)
main = unsupported_function(__name__, 'main', '', _REASON)
