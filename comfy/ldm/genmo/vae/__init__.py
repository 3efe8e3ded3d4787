"""ComfyUI's `comfy.ldm.genmo.vae` package (faces; see comfy/unsupported.py)."""
