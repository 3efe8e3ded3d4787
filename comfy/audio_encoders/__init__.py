"""ComfyUI's `comfy.audio_encoders` package (faces; see comfy/unsupported.py)."""
