"""ComfyUI's `comfy.ldm.lightricks` package (faces; see comfy/unsupported.py)."""
