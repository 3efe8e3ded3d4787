"""ComfyUI's `comfy.comfy_types.examples` package (faces; see comfy/unsupported.py)."""
