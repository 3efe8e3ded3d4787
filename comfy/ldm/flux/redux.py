"""ComfyUI's `comfy.ldm.flux.redux`: the FLUX.1 Redux image encoder, a face over comfy/guidance/style_models.py."""

import comfy.ops
from comfy.guidance.style_models import ReduxImageEncoder  # noqa: F401  ComfyUI's name

ops = comfy.ops.disable_weight_init
