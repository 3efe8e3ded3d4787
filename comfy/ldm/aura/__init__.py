"""ComfyUI's `comfy.ldm.aura` package (faces; see comfy/unsupported.py)."""
