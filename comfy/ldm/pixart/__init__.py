"""ComfyUI's `comfy.ldm.pixart` package (faces; see comfy/unsupported.py)."""
