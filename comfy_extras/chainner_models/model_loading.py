"""ComfyUI's `comfy_extras.chainner_models.model_loading`: an upscale model from a state dict, by spandrel."""

from __future__ import annotations

import logging
from typing import Any

import torch


def load_state_dict(state_dict: dict[str, torch.Tensor]) -> Any:
    """spandrel's model descriptor for an upscale model's state dict (ESRGAN, SwinIR, ...), in eval mode."""
    from comfy_extras.nodes_upscale_model import _spandrel

    logging.warning("comfy_extras.chainner_models is deprecated and has been replaced by the spandrel library.")
    return _spandrel().ModelLoader().load_from_state_dict(state_dict).eval()
