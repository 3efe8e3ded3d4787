"""ComfyUI's `comfy.ldm.cascade.stage_c_coder`, as faces: Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules)"

EfficientNetEncoder = unsupported_class(__name__, 'EfficientNetEncoder', 'c_latent=', _REASON)
Previewer = unsupported_class(__name__, 'Previewer', 'c_in=, c_hidden=, c_out=', _REASON)
StageC_coder = unsupported_class(__name__, 'StageC_coder', '', _REASON)
ops = comfy.ops.disable_weight_init
