"""ComfyUI's `comfy.ldm.hunyuan3d` package (faces; see comfy/unsupported.py)."""
