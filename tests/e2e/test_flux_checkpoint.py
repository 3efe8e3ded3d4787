"""The user's own workflow shape on FLUX.1 schnell, through the real server: CheckpointLoaderSimple
("flux1-schnell.safetensors", an all-in-one file with ComfyUI's prefixes: model, VAE, CLIP-L and a fp8 T5, all
reduced far below what ComfyUI accepts) -> CLIPTextEncode -> EmptySD3LatentImage / EmptyLatentImage -> KSampler
(4 steps, cfg 1, euler, simple) -> VAEDecode -> SaveImage."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests import model_factory

from .conftest import KilnServer
from .graphs import link, node

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("kiln-flux-checkpoint")
    checkpoints = base / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    model_factory.write_safetensors(checkpoints / "flux1-schnell.safetensors",
                                    model_factory.tiny_flux_schnell_checkpoint_state_dict(0))
    kiln = KilnServer(base, [])
    kiln.start()
    yield kiln
    kiln.stop()


def flux_schnell_workflow(latent_class: str, seed: int, text: str = "a red circle") -> dict:
    return {
        "4": node("CheckpointLoaderSimple", ckpt_name="flux1-schnell.safetensors"),
        "5": node(latent_class, width=64, height=64, batch_size=1),
        "6": node("CLIPTextEncode", text=text, clip=link("4", 1)),
        "7": node("CLIPTextEncode", text="", clip=link("4", 1)),
        "3": node("KSampler", seed=seed, steps=4, cfg=1.0, sampler_name="euler", scheduler="simple", denoise=1.0,
                  model=link("4", 0), positive=link("6"), negative=link("7"), latent_image=link("5")),
        "8": node("VAEDecode", samples=link("3"), vae=link("4", 2)),
        "9": node("SaveImage", images=link("8"), filename_prefix="flux-schnell"),
    }


async def _image(client, run) -> np.ndarray:
    [item] = run.outputs()["9"]["images"]
    answer = await client.view(item["filename"], subfolder=item["subfolder"], type=item["type"])
    assert answer.status == 200
    return np.asarray(Image.open(io.BytesIO(answer.body)).convert("RGB")).astype(np.int16)


@pytest.mark.parametrize("latent_class", ["EmptySD3LatentImage", "EmptyLatentImage"])
async def test_the_seed_workflow_runs_on_an_all_in_one_flux_schnell_file(client, latent_class):
    run = await client.run(flux_schnell_workflow(latent_class, seed=7), timeout=300)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    progress = [data for data in run.of_type("progress") if data["node"] == "3"]
    assert [data["value"] for data in progress] == [1, 2, 3, 4]
    image = await _image(client, run)
    assert image.shape == (64, 64, 3) and image.std() > 0  # a picture, not a constant
    # The text conditions the image, and the seed the noise: both change the picture; a rerun does not.
    same = await _image(client, await client.run(flux_schnell_workflow(latent_class, seed=7), timeout=300))
    other_text = await _image(client, await client.run(flux_schnell_workflow(latent_class, 7, "a blue square"),
                                                       timeout=300))
    other_seed = await _image(client, await client.run(flux_schnell_workflow(latent_class, seed=8), timeout=300))
    assert np.array_equal(image, same)
    assert np.abs(image - other_text).mean() > 0 and np.abs(image - other_seed).mean() > 0
