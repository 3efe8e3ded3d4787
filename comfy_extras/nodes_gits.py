"""GITSScheduler: the Geometry-Inspired Time Scheduling levels of Chen et al. 2024 for SD1 (comfy/noise_level_schedules)."""

from __future__ import annotations

from comfy.noise_level_schedules import gits_noise_levels, loglinear_interp, schedule_from_levels
from comfy_api.latest import ComfyExtension, io

__all__ = ["NOISE_LEVELS", "GITSScheduler", "GITSSchedulerExtension", "comfy_entrypoint", "loglinear_interp"]

NOISE_LEVELS = gits_noise_levels()
_LAST_TABULATED_STEPS = 20


class GITSScheduler(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="GITSScheduler",
            category="sampling/custom_sampling/schedulers",
            inputs=[
                io.Float.Input("coeff", default=1.20, min=0.80, max=1.50, step=0.05),
                io.Int.Input("steps", default=10, min=2, max=1000),
                io.Float.Input("denoise", default=1.0, min=0.0, max=1.0, step=0.01),
            ],
            outputs=[io.Sigmas.Output()],
        )

    @classmethod
    def execute(cls, coeff, steps, denoise) -> io.NodeOutput:
        levels_by_steps = NOISE_LEVELS[round(coeff, 2)]
        # Up to 20 steps the table has the exact levels; longer schedules stretch the 20-step levels.
        levels = levels_by_steps[min(steps, _LAST_TABULATED_STEPS) - 2]
        return io.NodeOutput(schedule_from_levels(levels, steps, denoise))


class GITSSchedulerExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [GITSScheduler]


async def comfy_entrypoint() -> GITSSchedulerExtension:
    return GITSSchedulerExtension()
