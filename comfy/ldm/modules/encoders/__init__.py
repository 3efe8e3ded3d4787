"""ComfyUI's `comfy.ldm.modules.encoders` package (faces; see comfy/unsupported.py)."""
