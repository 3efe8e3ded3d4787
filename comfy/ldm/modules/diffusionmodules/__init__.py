"""ComfyUI's `comfy.ldm.modules.diffusionmodules` package (faces; see comfy/unsupported.py)."""
