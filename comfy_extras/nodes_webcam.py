"""WebcamCapture: the frontend's webcam widget uploads a still to the input folder; the node loads it like
LoadImage (width and height are for the widget; ComfyUI 0.3.64 does not resize)."""

from __future__ import annotations

import torch

import folder_paths
import nodes
from nodes import MAX_RESOLUTION


class WebcamCapture(nodes.LoadImage):
    """The captured image (IMAGE only; LoadImage's mask is dropped as in ComfyUI's RETURN_TYPES)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "image": ("WEBCAM", {}),
            "width": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "height": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
            "capture_on_queue": ("BOOLEAN", {"default": True}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "load_capture"
    CATEGORY = "image"

    def load_capture(self, image: str, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        return super().load_image(folder_paths.get_annotated_filepath(image))

    @classmethod
    def IS_CHANGED(cls, image: str, width: int = 0, height: int = 0, capture_on_queue: bool = True) -> str:
        return super().IS_CHANGED(image)


NODE_CLASS_MAPPINGS = {"WebcamCapture": WebcamCapture}
NODE_DISPLAY_NAME_MAPPINGS = {"WebcamCapture": "Webcam Capture"}
