"""AlignYourStepsScheduler: NVIDIA's Align Your Steps schedules for SD1, SDXL and SVD (comfy/noise_level_schedules)."""

from __future__ import annotations

from comfy.noise_level_schedules import ALIGN_YOUR_STEPS as NOISE_LEVELS
from comfy.noise_level_schedules import loglinear_interp, schedule_from_levels
from comfy_api.latest import ComfyExtension, io

__all__ = ["NOISE_LEVELS", "AlignYourStepsScheduler", "AlignYourStepsExtension", "comfy_entrypoint",
           "loglinear_interp"]


class AlignYourStepsScheduler(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AlignYourStepsScheduler",
            category="sampling/custom_sampling/schedulers",
            inputs=[
                io.Combo.Input("model_type", options=["SD1", "SDXL", "SVD"]),
                io.Int.Input("steps", default=10, min=1, max=10000),
                io.Float.Input("denoise", default=1.0, min=0.0, max=1.0, step=0.01),
            ],
            outputs=[io.Sigmas.Output()],
        )

    def get_sigmas(self, model_type, steps, denoise):
        """ComfyUI's older method name, kept for callers."""
        return self.execute(model_type, steps, denoise).result

    @classmethod
    def execute(cls, model_type, steps, denoise) -> io.NodeOutput:
        return io.NodeOutput(schedule_from_levels(NOISE_LEVELS[model_type], steps, denoise))


class AlignYourStepsExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [AlignYourStepsScheduler]


async def comfy_entrypoint() -> AlignYourStepsExtension:
    return AlignYourStepsExtension()
