"""ComfyUI's `comfy.ldm.genmo.joint_model` package (faces; see comfy/unsupported.py)."""
