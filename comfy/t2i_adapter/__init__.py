"""ComfyUI's `comfy.t2i_adapter` package (faces; see comfy/unsupported.py)."""
