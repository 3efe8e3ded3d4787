"""ComfyUI's `comfy.ldm.modules.encoders.noise_aug_modules`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

CLIPEmbeddingNoiseAugmentation = unsupported_class(__name__, 'CLIPEmbeddingNoiseAugmentation', '*args, clip_stats_path=, timestep_dim=, **kwargs', _REASON)
