"""ComfyUI's `comfy.ldm.cosmos.position_embedding`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

LearnablePosEmbAxis = unsupported_class(__name__, 'LearnablePosEmbAxis', '*, interpolation, model_channels, len_h, len_w, len_t, device=, dtype=, **kwargs', _REASON)
VideoPositionEmb = unsupported_class(__name__, 'VideoPositionEmb', None, _REASON)
VideoRopePosition3DEmb = unsupported_class(__name__, 'VideoRopePosition3DEmb', '*, head_dim, len_h, len_w, len_t, base_fps=, h_extrapolation_ratio=, w_extrapolation_ratio=, t_extrapolation_ratio=, enable_fps_modulation=, device=, **kwargs', _REASON)
normalize = unsupported_function(__name__, 'normalize', 'x, dim=, eps=', _REASON)
