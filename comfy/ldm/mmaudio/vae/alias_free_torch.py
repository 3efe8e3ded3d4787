"""ComfyUI's `comfy.ldm.mmaudio.vae.alias_free_torch`, as faces: Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `mmaudio` network code (Kiln's models are diffusers modules)"

Activation1d = unsupported_class(__name__, 'Activation1d', 'activation, up_ratio=, down_ratio=, up_kernel_size=, down_kernel_size=', _REASON)
DownSample1d = unsupported_class(__name__, 'DownSample1d', 'ratio=, kernel_size=', _REASON)
LowPassFilter1d = unsupported_class(__name__, 'LowPassFilter1d', 'cutoff=, half_width=, stride=, padding=, padding_mode=, kernel_size=', _REASON)
UpSample1d = unsupported_class(__name__, 'UpSample1d', 'ratio=, kernel_size=', _REASON)
kaiser_sinc_filter1d = unsupported_function(__name__, 'kaiser_sinc_filter1d', 'cutoff, half_width, kernel_size', _REASON)
