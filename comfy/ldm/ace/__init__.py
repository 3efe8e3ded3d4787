"""ComfyUI's `comfy.ldm.ace` package (faces; see comfy/unsupported.py)."""
