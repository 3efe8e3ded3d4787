"""ComfyUI's `comfy.ldm.qwen_image` package (faces; see comfy/unsupported.py)."""
