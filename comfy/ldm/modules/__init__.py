"""ComfyUI's `comfy.ldm.modules`: the attention functions (`attention`) and the UNet helpers (`diffusionmodules`)."""
