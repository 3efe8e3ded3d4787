"""ComfyUI's Canny preprocessor node: edges of an image (0/1, as an RGB image) for edge ControlNets."""

from __future__ import annotations

import comfy.model_management
from comfy.canny import canny
from comfy_api.latest import ComfyExtension, io


class Canny(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="Canny",
            category="image/preprocessors",
            inputs=[
                io.Image.Input("image"),
                io.Float.Input("low_threshold", default=0.4, min=0.01, max=0.99, step=0.01),
                io.Float.Input("high_threshold", default=0.8, min=0.01, max=0.99, step=0.01),
            ],
            outputs=[io.Image.Output()],
        )

    def detect_edge(self, image, low_threshold, high_threshold):
        """ComfyUI's older method name, kept for callers."""
        return self.execute(image, low_threshold, high_threshold).result

    @classmethod
    def execute(cls, image, low_threshold, high_threshold) -> io.NodeOutput:
        device = comfy.model_management.get_torch_device()
        _, edges = canny(image.to(device).movedim(-1, 1), low_threshold, high_threshold)
        edges = edges.to(comfy.model_management.intermediate_device()).repeat(1, 3, 1, 1).movedim(1, -1)
        return io.NodeOutput(edges)


class CannyExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [Canny]


async def comfy_entrypoint() -> CannyExtension:
    return CannyExtension()
