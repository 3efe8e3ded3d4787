"""ComfyUI's `comfy.ldm.flux.controlnet`, as faces: Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `flux` network code (Kiln's models are diffusers modules)"

ControlNetFlux = unsupported_class(__name__, 'ControlNetFlux', 'latent_input=, num_union_modes=, mistoline=, control_latent_channels=, image_model=, dtype=, device=, operations=, **kwargs', _REASON)
MistolineCondDownsamplBlock = unsupported_class(__name__, 'MistolineCondDownsamplBlock', 'dtype=, device=, operations=', _REASON)
MistolineControlnetBlock = unsupported_class(__name__, 'MistolineControlnetBlock', 'hidden_size, dtype=, device=, operations=', _REASON)
