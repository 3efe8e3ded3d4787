"""ComfyUI's `comfy_extras.nodes_hunyuan`: EmptyHunyuanLatentVideo, the empty 16-channel video latent that Wan 2.1
workflows (and HunyuanVideo's) start from. The HunyuanVideo / HunyuanDiT / HunyuanImage nodes wait for those
families: faces that say so when used (comfy/unsupported.py)."""

from __future__ import annotations

import torch

import comfy.model_management
from comfy.unsupported import UnsupportedValue, unsupported_class
from nodes import MAX_RESOLUTION

__all__ = ["NODE_CLASS_MAPPINGS", "EmptyHunyuanLatentVideo"]


def video_latent_frames(length: int) -> int:
    """Latent frames of a causal video VAE with 4x temporal compression: the first frame alone, then 4 per latent."""
    return (length - 1) // 4 + 1


class EmptyHunyuanLatentVideo:
    """All-zero video latents {"samples": [batch, 16, (length - 1) // 4 + 1, height / 8, width / 8]}."""

    @classmethod
    def INPUT_TYPES(cls) -> dict:  # noqa: N802 - ComfyUI's contract
        return {"required": {
            "width": ("INT", {"default": 848, "min": 16, "max": MAX_RESOLUTION, "step": 16}),
            "height": ("INT", {"default": 480, "min": 16, "max": MAX_RESOLUTION, "step": 16}),
            "length": ("INT", {"default": 25, "min": 1, "max": MAX_RESOLUTION, "step": 4}),
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096}),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "generate"
    CATEGORY = "latent/video"

    def generate(self, width: int, height: int, length: int, batch_size: int = 1) -> tuple[dict]:
        shape = [batch_size, 16, video_latent_frames(length), height // 8, width // 8]
        return ({"samples": torch.zeros(shape, device=comfy.model_management.intermediate_device())},)


NODE_CLASS_MAPPINGS = {"EmptyHunyuanLatentVideo": EmptyHunyuanLatentVideo}

# ComfyUI 0.3.64's other names in this module, which wait for the Hunyuan families.
_REASON = "Kiln does not run the HunyuanVideo / HunyuanDiT / HunyuanImage families yet"

CLIPTextEncodeHunyuanDiT = unsupported_class(__name__, "CLIPTextEncodeHunyuanDiT", None, _REASON)
EmptyHunyuanImageLatent = unsupported_class(__name__, "EmptyHunyuanImageLatent", None, _REASON)
HunyuanImageToVideo = unsupported_class(__name__, "HunyuanImageToVideo", None, _REASON)
HunyuanRefinerLatent = unsupported_class(__name__, "HunyuanRefinerLatent", None, _REASON)
PROMPT_TEMPLATE_ENCODE_VIDEO_I2V = UnsupportedValue(__name__, "PROMPT_TEMPLATE_ENCODE_VIDEO_I2V", _REASON)
TextEncodeHunyuanVideo_ImageToVideo = unsupported_class(__name__, "TextEncodeHunyuanVideo_ImageToVideo", None,
                                                        _REASON)
