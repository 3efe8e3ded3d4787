"""ComfyUI's `comfy.ldm.models` package (faces; see comfy/unsupported.py)."""
