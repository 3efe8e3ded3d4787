"""ComfyUI's `comfy.ldm.flux`: the rotary position embedding and attention FLUX.1 uses (`math`)."""
