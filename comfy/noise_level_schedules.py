"""Schedules given as published noise levels, stretched to any number of steps.

Align Your Steps (NVIDIA, https://research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html) gives ten-step
levels for SD1, SDXL and SVD; Optimal Steps (https://github.com/bebebe666/OptimalSteps) gives levels for FLUX,
Wan and Chroma; GITS (Chen et al. 2024, https://github.com/zju-pi/diff-sampler) gives SD1 levels for 2 to 20 steps
per coefficient 0.80 to 1.50 (gits_noise_levels.json). Other step counts interpolate the levels linearly in log space; a partial denoise keeps the low
end of the schedule; the last sigma is always 0.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch

ALIGN_YOUR_STEPS = {
    "SD1": [14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092, 0.9642583904,
            0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582],
    "SDXL": [14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289,
             0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582],
    "SVD": [700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
}

OPTIMAL_STEPS = {
    "FLUX": [0.9968, 0.9886, 0.9819, 0.975, 0.966, 0.9471, 0.9158, 0.8287, 0.5512, 0.2808, 0.001],
    "Wan": [1.0, 0.997, 0.995, 0.993, 0.991, 0.989, 0.987, 0.985, 0.98, 0.975, 0.973, 0.968, 0.96, 0.946, 0.927,
            0.902, 0.864, 0.776, 0.539, 0.208, 0.001],
    "Chroma": [0.992, 0.99, 0.988, 0.985, 0.982, 0.978, 0.973, 0.968, 0.961, 0.953, 0.943, 0.931, 0.917, 0.9, 0.881,
               0.858, 0.832, 0.802, 0.769, 0.731, 0.69, 0.646, 0.599, 0.55, 0.501, 0.451, 0.402, 0.355, 0.311, 0.27,
               0.232, 0.199, 0.169, 0.143, 0.12, 0.101, 0.084, 0.07, 0.058, 0.048, 0.001],
}

GITS_NOISE_LEVELS_FILE = Path(__file__).with_name("gits_noise_levels.json")


@functools.cache
def gits_noise_levels() -> dict[float, list[list[float]]]:
    """{coefficient: [the levels for 2 steps (3 values), 3 steps, ..., 20 steps (21 values)]}."""
    table = json.loads(GITS_NOISE_LEVELS_FILE.read_text())
    return {float(coefficient): levels for coefficient, levels in table.items()}


def loglinear_interp(t_steps, num_steps: int) -> np.ndarray:
    """`num_steps` values from the decreasing `t_steps`, evenly spaced in position, interpolated in log space."""
    rising = np.log(np.asarray(t_steps, dtype=np.float64)[::-1])
    positions = np.linspace(0, 1, len(rising))
    wanted = np.linspace(0, 1, num_steps)
    return np.exp(np.interp(wanted, positions, rising))[::-1].copy()


def schedule_from_levels(levels: list[float], steps: int, denoise: float) -> torch.Tensor:
    """`steps` steps over the published `levels` (the last `round(steps * denoise)` of them when denoising
    partly), ending at 0."""
    kept = steps
    if denoise < 1.0:
        if denoise <= 0.0:
            return torch.FloatTensor([])
        kept = round(steps * denoise)
    sigmas = levels[:] if steps + 1 == len(levels) else loglinear_interp(levels, steps + 1)
    sigmas = sigmas[-(kept + 1):]
    sigmas[-1] = 0
    return torch.FloatTensor(sigmas)
