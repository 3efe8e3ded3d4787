"""ComfyUI's `comfy.ldm.mmaudio` package (faces; see comfy/unsupported.py)."""
