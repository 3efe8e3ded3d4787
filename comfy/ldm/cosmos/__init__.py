"""ComfyUI's `comfy.ldm.cosmos` package (faces; see comfy/unsupported.py)."""
