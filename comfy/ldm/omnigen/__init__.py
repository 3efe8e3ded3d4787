"""ComfyUI's `comfy.ldm.omnigen` package (faces; see comfy/unsupported.py)."""
