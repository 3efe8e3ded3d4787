"""ComfyUI's `comfy.ldm.lightricks.vae` package (faces; see comfy/unsupported.py)."""
