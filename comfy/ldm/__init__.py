"""ComfyUI's `comfy.ldm` package: the model-architecture modules custom nodes import by name. Kiln's networks are
diffusers and transformers modules; what is here are the functions packs call (attention, RoPE) and take effect on
those networks. Which of ComfyUI's names are missing, and why: tests/fixtures/comfyui/public_names_gaps.json."""
