"""ComfyUI's `comfy.cldm.mmdit`, as faces: Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks"

ControlNet = unsupported_class(__name__, 'ControlNet', 'num_blocks=, control_latent_channels=, dtype=, device=, operations=, **kwargs', _REASON)
