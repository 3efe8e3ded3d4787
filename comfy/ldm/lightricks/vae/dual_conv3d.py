"""ComfyUI's `comfy.ldm.lightricks.vae.dual_conv3d`, as faces: Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `lightricks` network code (Kiln's models are diffusers modules)"

DualConv3d = unsupported_class(__name__, 'DualConv3d', 'in_channels, out_channels, kernel_size, stride=, padding=, dilation=, groups=, bias=, padding_mode=', _REASON)
test_dual_conv3d_consistency = unsupported_function(__name__, 'test_dual_conv3d_consistency', '', _REASON)
