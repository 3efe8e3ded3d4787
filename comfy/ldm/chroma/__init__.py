"""ComfyUI's `comfy.ldm.chroma` package (faces; see comfy/unsupported.py)."""
