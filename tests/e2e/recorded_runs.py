"""Replaying one of ComfyUI's recorded end-to-end runs (`tests/fixtures/comfyui/e2e*/`) through the server and
comparing its saved latent (node 10, SaveLatent) and image (node 9, SaveImage) with ComfyUI's."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from safetensors.numpy import load as load_safetensors_bytes

from .client import KilnClient


async def replay_and_compare(client: KilnClient, workflow: dict, reference: dict, *, latent_rtol: float,
                             image_max_abs: int = 2, image_mean_abs: float = 0.1, timeout: float = 300) -> str:
    """Run `workflow`; assert its latent is within `latent_rtol` of the reference's largest value and its image
    within the pixel tolerances. A one-line summary of the differences."""
    run = await client.run(workflow, timeout=timeout)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")

    latent_file = next(item for item in run.outputs()["10"]["latents"])
    latent = load_safetensors_bytes(await client.download(latent_file))["latent_tensor"]
    expected_latent = reference["latent"]
    scale = np.abs(expected_latent).max()
    latent_error = np.abs(latent - expected_latent).max()
    assert latent_error <= latent_rtol * scale, f"latent max |d| = {latent_error} of max {scale}"

    [image_item] = run.outputs()["9"]["images"]
    image = np.asarray(Image.open(io.BytesIO(await client.download(image_item))).convert("RGB")).astype(np.int16)
    difference = np.abs(image - reference["image"][0].astype(np.int16))
    assert difference.max() <= image_max_abs and difference.mean() <= image_mean_abs, (
        difference.max(), difference.mean())
    return (f"latent max|d|/max = {latent_error / scale:.2e}, image max {difference.max()} "
            f"mean {difference.mean():.4f}")
