"""ComfyUI's Canny preprocessor node: edges of an image (0/1, as an RGB image) for edge ControlNets."""

from __future__ import annotations

import comfy.model_management
from comfy.canny import canny
from comfy_extras.v3_info import V3Rendered


class Canny(V3Rendered):
    NODE_ID = "Canny"

    @classmethod
    def INPUT_TYPES(cls):
        threshold = {"min": 0.01, "max": 0.99, "step": 0.01}
        return {"required": {"image": ("IMAGE",),
                             "low_threshold": ("FLOAT", {"default": 0.4, **threshold}),
                             "high_threshold": ("FLOAT", {"default": 0.8, **threshold})}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "detect_edge"
    CATEGORY = "image/preprocessors"

    def detect_edge(self, image, low_threshold, high_threshold):
        device = comfy.model_management.get_torch_device()
        _, edges = canny(image.to(device).movedim(-1, 1), low_threshold, high_threshold)
        return (edges.to(comfy.model_management.intermediate_device()).repeat(1, 3, 1, 1).movedim(1, -1),)


NODE_CLASS_MAPPINGS = {"Canny": Canny}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = 'Kiln does not implement this `nodes_canny` node yet'

CannyExtension = unsupported_class(__name__, 'CannyExtension', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
