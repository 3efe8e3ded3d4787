"""ComfyUI's `comfy_extras.chainner_models`: loading upscale models (`model_loading`)."""
