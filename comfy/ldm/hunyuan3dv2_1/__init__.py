"""ComfyUI's `comfy.ldm.hunyuan3dv2_1` package (faces; see comfy/unsupported.py)."""
