"""ComfyUI's `comfy.cldm` package (faces; see comfy/unsupported.py)."""
