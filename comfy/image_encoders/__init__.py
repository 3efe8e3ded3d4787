"""ComfyUI's `comfy.image_encoders` package (faces; see comfy/unsupported.py)."""
