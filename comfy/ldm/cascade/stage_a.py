"""ComfyUI's `comfy.ldm.cascade.stage_a`, as faces: Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules)"

Discriminator = unsupported_class(__name__, 'Discriminator', 'c_in=, c_cond=, c_hidden=, depth=', _REASON)
ResBlock = unsupported_class(__name__, 'ResBlock', 'c, c_hidden', _REASON)
StageA = unsupported_class(__name__, 'StageA', 'levels=, bottleneck_blocks=, c_hidden=, c_latent=, codebook_size=', _REASON)
VectorQuantize = unsupported_class(__name__, 'VectorQuantize', 'embedding_size, k, ema_decay=, ema_loss=', _REASON)
ops = comfy.ops.disable_weight_init
vector_quantize = unsupported_class(__name__, 'vector_quantize', None, _REASON)
