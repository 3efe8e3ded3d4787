"""ComfyUI's `comfy_api.torch_helpers` package (faces; see comfy/unsupported.py)."""
