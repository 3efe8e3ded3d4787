"""ComfyUI's `comfy.ldm.hunyuan_video` package (faces; see comfy/unsupported.py)."""
