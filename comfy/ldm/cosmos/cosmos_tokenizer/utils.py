"""ComfyUI's `comfy.ldm.cosmos.cosmos_tokenizer.utils`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

CausalNormalize = unsupported_class(__name__, 'CausalNormalize', 'in_channels, num_groups=', _REASON)
Normalize = unsupported_function(__name__, 'Normalize', 'in_channels, num_groups=', _REASON)
batch2space = unsupported_function(__name__, 'batch2space', 'x, batch_size, height', _REASON)
batch2time = unsupported_function(__name__, 'batch2time', 'x, batch_size', _REASON)
cast_tuple = unsupported_function(__name__, 'cast_tuple', 't, length=', _REASON)
default = unsupported_function(__name__, 'default', '*args', _REASON)
divisible_by = unsupported_function(__name__, 'divisible_by', 'num, den', _REASON)
entropy = unsupported_function(__name__, 'entropy', 'prob', _REASON)
exists = unsupported_function(__name__, 'exists', 'v', _REASON)
is_odd = unsupported_function(__name__, 'is_odd', 'n', _REASON)
log = unsupported_function(__name__, 'log', 't, eps=', _REASON)
nonlinearity = unsupported_function(__name__, 'nonlinearity', 'x', _REASON)
ops = comfy.ops.disable_weight_init
replication_pad = unsupported_function(__name__, 'replication_pad', 'x', _REASON)
round_ste = unsupported_function(__name__, 'round_ste', 'z', _REASON)
space2batch = unsupported_function(__name__, 'space2batch', 'x', _REASON)
time2batch = unsupported_function(__name__, 'time2batch', 'x', _REASON)
