"""ComfyUI's `comfy.ldm.cascade` package (faces; see comfy/unsupported.py)."""
