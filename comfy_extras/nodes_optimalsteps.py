"""OptimalStepsScheduler: the Optimal Steps schedules for FLUX, Wan and Chroma (comfy/noise_level_schedules)."""

from __future__ import annotations

from comfy.noise_level_schedules import OPTIMAL_STEPS as NOISE_LEVELS
from comfy.noise_level_schedules import loglinear_interp, schedule_from_levels
from comfy_api.latest import ComfyExtension, io

__all__ = ["NOISE_LEVELS", "OptimalStepsScheduler", "OptimalStepsExtension", "comfy_entrypoint", "loglinear_interp"]


class OptimalStepsScheduler(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="OptimalStepsScheduler",
            category="sampling/custom_sampling/schedulers",
            inputs=[
                io.Combo.Input("model_type", options=["FLUX", "Wan", "Chroma"]),
                io.Int.Input("steps", default=20, min=3, max=1000),
                io.Float.Input("denoise", default=1.0, min=0.0, max=1.0, step=0.01),
            ],
            outputs=[io.Sigmas.Output()],
        )

    @classmethod
    def execute(cls, model_type, steps, denoise) -> io.NodeOutput:
        return io.NodeOutput(schedule_from_levels(NOISE_LEVELS[model_type], steps, denoise))


class OptimalStepsExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [OptimalStepsScheduler]


async def comfy_entrypoint() -> OptimalStepsExtension:
    return OptimalStepsExtension()
