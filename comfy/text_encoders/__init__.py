"""ComfyUI's `comfy.text_encoders` package (faces; see comfy/unsupported.py)."""
