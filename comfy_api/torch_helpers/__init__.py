"""ComfyUI's `comfy_api.torch_helpers` package: `set_torch_compile_wrapper` (see torch_compile)."""

from comfy_api.torch_helpers.torch_compile import set_torch_compile_wrapper

__all__ = ["set_torch_compile_wrapper"]
