"""ComfyUI's `comfy.ldm.ace.vae` package (faces; see comfy/unsupported.py)."""
