"""ComfyUI's `comfy_api.torch_helpers.torch_compile`, as faces: Kiln does not wrap models with torch.compile.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_function

_REASON = "Kiln does not wrap models with torch.compile"

COMPILE_KEY = UnsupportedValue(__name__, 'COMPILE_KEY', _REASON)
TORCH_COMPILE_KWARGS = UnsupportedValue(__name__, 'TORCH_COMPILE_KWARGS', _REASON)
apply_torch_compile_factory = unsupported_function(__name__, 'apply_torch_compile_factory', 'compiled_module_dict', _REASON)
set_torch_compile_wrapper = unsupported_function(__name__, 'set_torch_compile_wrapper', 'model, backend, options=, mode=, fullgraph=, dynamic=, keys=, *args, **kwargs', _REASON)
