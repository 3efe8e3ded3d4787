"""ComfyUI's `comfy.ldm.audio` package (faces; see comfy/unsupported.py)."""
