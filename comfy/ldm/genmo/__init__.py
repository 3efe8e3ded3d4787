"""ComfyUI's `comfy.ldm.genmo` package (faces; see comfy/unsupported.py)."""
