"""ComfyUI's `comfy.ldm.wan` package (faces; see comfy/unsupported.py)."""
