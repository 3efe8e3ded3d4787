"""ComfyUI's `comfy.ldm.modules.distributions` package (faces; see comfy/unsupported.py)."""
