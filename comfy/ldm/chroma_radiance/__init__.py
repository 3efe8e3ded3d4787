"""ComfyUI's `comfy.ldm.chroma_radiance` package (faces; see comfy/unsupported.py)."""
