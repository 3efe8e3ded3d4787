"""ComfyUI's `comfy.ldm.hydit` package (faces; see comfy/unsupported.py)."""
