"""ComfyUI's `comfy.ldm.modules.diffusionmodules.upscaling`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

AbstractLowScaleModel = unsupported_class(__name__, 'AbstractLowScaleModel', 'noise_schedule_config=', _REASON)
ImageConcatWithNoiseAugmentation = unsupported_class(__name__, 'ImageConcatWithNoiseAugmentation', 'noise_schedule_config, max_noise_level=, to_cuda=', _REASON)
SimpleImageConcat = unsupported_class(__name__, 'SimpleImageConcat', '', _REASON)
