"""The standard text-to-image workflow through the real server on tiny generated checkpoints of every family,
and bad model input answered with clear execution errors while the server keeps serving."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from tests import model_factory

from .client import KilnClient
from .conftest import KilnServer
from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio

FAMILIES = ["SD15", "SD15_inpaint", "SD20", "SD21", "SDXL", "SDXLRefiner"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose models/checkpoints folder holds one tiny checkpoint per family (made by the test)."""
    base = tmp_path_factory.mktemp("kiln-diffusion")
    checkpoints = base / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    for family in FAMILIES:
        model_factory.write_tiny_checkpoint(checkpoints / f"tiny-{family}.safetensors", family, 0)
    raw = (checkpoints / "tiny-SD15.safetensors").read_bytes()
    (checkpoints / "truncated.safetensors").write_bytes(raw[: len(raw) // 3])
    (checkpoints / "not-a-model.safetensors").write_bytes(b"hello, I am a text file" * 100)
    model_factory.write_safetensors(checkpoints / "unknown-family.safetensors",
                                    {"net.layers.0.weight": torch.zeros(4, 4), "net.layers.1.weight": torch.zeros(4)})
    loras = base / "models" / "loras"
    loras.mkdir(parents=True)
    model_factory.write_safetensors(loras / "tiny-sd1-lora.safetensors", model_factory.tiny_lora_sd1_state_dict(0))
    kiln = KilnServer(base, ["--preview-method", "latent2rgb"])
    kiln.start()
    yield kiln
    kiln.stop()


def standard_workflow(checkpoint: str, seed: int, text: str = "a red circle", steps: int = 3,
                      sampler: str = "euler", lora: str | None = None) -> dict:
    model = link("4", 0)
    prompt = {
        "4": node("CheckpointLoaderSimple", ckpt_name=checkpoint),
        "5": node("EmptyLatentImage", width=64, height=64, batch_size=1),
        "6": node("CLIPTextEncode", text=text, clip=link("4", 1)),
        "7": node("CLIPTextEncode", text="blurry", clip=link("4", 1)),
        "3": node("KSampler", seed=seed, steps=steps, cfg=7.0, sampler_name=sampler, scheduler="normal",
                  denoise=1.0, model=model, positive=link("6"), negative=link("7"), latent_image=link("5")),
        "8": node("VAEDecode", samples=link("3"), vae=link("4", 2)),
        "9": node("SaveImage", images=link("8"), filename_prefix=f"kiln_{fresh()}"),
    }
    if lora is not None:
        prompt["10"] = node("LoraLoader", model=link("4", 0), clip=link("4", 1), lora_name=lora, strength_model=1.0,
                            strength_clip=1.0)
        prompt["3"]["inputs"]["model"] = link("10", 0)
        prompt["6"]["inputs"]["clip"] = link("10", 1)
        prompt["7"]["inputs"]["clip"] = link("10", 1)
    return prompt


async def pixels(client: KilnClient, run) -> np.ndarray:
    [image] = run.outputs()["9"]["images"]
    answer = await client.view(image["filename"], subfolder=image["subfolder"], type=image["type"])
    assert answer.status == 200
    return np.asarray(Image.open(io.BytesIO(answer.body)).convert("RGB"))


@pytest.mark.parametrize("family", FAMILIES)
async def test_the_standard_workflow_makes_a_png_for_every_family(client, family):
    run = await client.run(standard_workflow(f"tiny-{family}.safetensors", 42), timeout=120)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    image = await pixels(client, run)
    assert image.shape == (64, 64, 3) and image.std() > 0
    assert any(data["node"] == "3" for data in run.of_type("progress"))


async def test_the_same_seed_gives_identical_pixels_and_another_seed_different_ones(client):
    first = await pixels(client, await client.run(standard_workflow("tiny-SD15.safetensors", 1234)))
    again = await pixels(client, await client.run(standard_workflow("tiny-SD15.safetensors", 1234)))
    other = await pixels(client, await client.run(standard_workflow("tiny-SD15.safetensors", 1235)))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


async def test_a_lora_changes_the_picture(client):
    plain = await pixels(client, await client.run(standard_workflow("tiny-SD15.safetensors", 99)))
    with_lora = await client.run(standard_workflow("tiny-SD15.safetensors", 99, lora="tiny-sd1-lora.safetensors"))
    assert with_lora.history["status"]["status_str"] == "success", with_lora.of_type("execution_error")
    assert not np.array_equal(plain, await pixels(client, with_lora))


async def _fails_naming(client: KilnClient, prompt: dict, expected_node: str, *fragments: str) -> dict:
    run = await client.run(prompt, timeout=120)
    [error] = run.of_type("execution_error")
    assert error["node_id"] == expected_node
    for fragment in fragments:
        assert fragment in error["exception_message"], error["exception_message"]
    assert (await client.get("/system_stats")).status == 200
    return error


async def test_a_truncated_checkpoint_is_an_execution_error_naming_the_file(client):
    await _fails_naming(client, standard_workflow("truncated.safetensors", 1), "4", "truncated.safetensors")


async def test_a_file_that_is_not_a_checkpoint_is_an_execution_error_naming_the_file(client):
    await _fails_naming(client, standard_workflow("not-a-model.safetensors", 1), "4", "not-a-model.safetensors")


async def test_a_checkpoint_of_an_unknown_family_is_an_execution_error_naming_the_file(client):
    await _fails_naming(client, standard_workflow("unknown-family.safetensors", 1), "4",
                        "unknown-family.safetensors")


async def test_a_lora_for_another_family_is_an_execution_error(client):
    await _fails_naming(client, standard_workflow("tiny-SDXL.safetensors", 1, lora="tiny-sd1-lora.safetensors"),
                        "10", "tiny-sd1-lora.safetensors", "does not fit")


async def test_a_missing_embedding_is_a_warning_not_an_error(client):
    run = await client.run(standard_workflow("tiny-SD15.safetensors", 5, text="a cat, embedding:nowhere"))
    assert run.history["status"]["status_str"] == "success"


async def test_a_thousand_token_prompt_works(client):
    text = " ".join(["a red circle on a blue background"] * 150)
    run = await client.run(standard_workflow("tiny-SD15.safetensors", 6, text=text), timeout=120)
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")


async def test_running_out_of_memory_while_sampling_is_reported_and_the_server_keeps_serving(client):
    prompt = standard_workflow("tiny-SD15.safetensors", 7)
    prompt["11"] = node("KilnTestOutOfMemoryModel", model=link("4", 0))
    prompt["3"]["inputs"]["model"] = link("11", 0)
    error = await _fails_naming(client, prompt, "3", "out of memory")
    assert error["exception_type"] == "torch.OutOfMemoryError"
    after = await client.run(standard_workflow("tiny-SD15.safetensors", 8))
    assert after.history["status"]["status_str"] == "success"


async def test_latent2rgb_previews_arrive_as_binary_frames_while_sampling(client):
    steps = 3
    client.binary_frames.clear()
    run = await client.run(standard_workflow("tiny-SD15.safetensors", 11, steps=steps))
    assert run.history["status"]["status_str"] == "success"
    assert len(client.binary_frames) == steps  # one preview per sampler step
    for frame in client.binary_frames:
        assert struct.unpack(">II", frame[:8]) == (1, 1)  # PREVIEW_IMAGE, JPEG
        preview = Image.open(io.BytesIO(frame[8:]))
        assert preview.format == "JPEG" and preview.size[0] == preview.size[1]
