"""ComfyUI's `comfy.ldm.qwen_image.controlnet`, as faces: Kiln does not carry ComfyUI's `qwen_image` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `qwen_image` network code (Kiln's models are diffusers modules)"

QwenImageControlNetModel = unsupported_class(__name__, 'QwenImageControlNetModel', 'extra_condition_channels=, dtype=, device=, operations=, **kwargs', _REASON)
