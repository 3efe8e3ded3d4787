"""ComfyUI's `comfy.ldm.flux.redux`, as faces: Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules)"

ReduxImageEncoder = unsupported_class(__name__, 'ReduxImageEncoder', 'redux_dim=, txt_in_features=, device=, dtype=', _REASON)
ops = comfy.ops.disable_weight_init
