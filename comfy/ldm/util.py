"""ComfyUI's `comfy.ldm.util`, as faces: Kiln does not carry ComfyUI's `util` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `util` network code (Kiln's models are diffusers modules)"

AdamWwithEMAandWings = unsupported_class(__name__, 'AdamWwithEMAandWings', 'params, lr=, betas=, eps=, weight_decay=, amsgrad=, ema_decay=, ema_power=, param_names=', _REASON)
count_params = unsupported_function(__name__, 'count_params', 'model, verbose=', _REASON)
from comfy.ldm.modules.attention import default  # noqa: E402, F401 - ComfyUI's public name here


def exists(x: object) -> bool:
    return x is not None


get_obj_from_str = unsupported_function(__name__, 'get_obj_from_str', 'string, reload=', _REASON)
instantiate_from_config = unsupported_function(__name__, 'instantiate_from_config', 'config', _REASON)
isimage = unsupported_function(__name__, 'isimage', 'x', _REASON)
ismap = unsupported_function(__name__, 'ismap', 'x', _REASON)
log_txt_as_img = unsupported_function(__name__, 'log_txt_as_img', 'wh, xc, size=', _REASON)
mean_flat = unsupported_function(__name__, 'mean_flat', 'tensor', _REASON)
