"""ComfyUI's `comfy.ldm.modules.temporal_ae`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

AE3DConv = unsupported_class(__name__, 'AE3DConv', 'in_channels, out_channels, video_kernel_size=, *args, **kwargs', _REASON)
AttnVideoBlock = unsupported_class(__name__, 'AttnVideoBlock', 'in_channels, alpha=, merge_strategy=', _REASON)
Conv2DWrapper = unsupported_class(__name__, 'Conv2DWrapper', None, _REASON)
VideoDecoder = unsupported_class(__name__, 'VideoDecoder', '*args, video_kernel_size=, alpha=, merge_strategy=, time_mode=, **kwargs', _REASON)
VideoResBlock = unsupported_class(__name__, 'VideoResBlock', 'out_channels, *args, dropout=, video_kernel_size=, alpha=, merge_strategy=, **kwargs', _REASON)
make_time_attn = unsupported_function(__name__, 'make_time_attn', 'in_channels, attn_type=, attn_kwargs=, alpha=, merge_strategy=, conv_op=', _REASON)
ops = comfy.ops.disable_weight_init
partialclass = unsupported_function(__name__, 'partialclass', 'cls, *args, **kwargs', _REASON)
