"""ComfyUI's `comfy.ldm.hidream` package (faces; see comfy/unsupported.py)."""
