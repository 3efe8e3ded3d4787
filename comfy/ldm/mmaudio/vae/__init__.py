"""ComfyUI's `comfy.ldm.mmaudio.vae` package (faces; see comfy/unsupported.py)."""
