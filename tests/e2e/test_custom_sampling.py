"""Custom sampling, SDXL text encoding and checkpoint saving through the real server on tiny generated
checkpoints: a SamplerCustomAdvanced graph draws the same picture as KSampler, an SDXL graph with
CLIPTextEncodeSDXL makes an image whose size conditioning matters, and CheckpointSave writes a checkpoint that
CheckpointLoaderSimple lists and loads back."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

import comfy.utils
from tests import model_factory

from .client import KilnClient
from .conftest import KilnServer
from .graphs import fresh, link, node

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose models/checkpoints folder holds tiny SD15 and SDXL checkpoints."""
    base = tmp_path_factory.mktemp("kiln-custom-sampling")
    checkpoints = base / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    for family in ("SD15", "SDXL"):
        model_factory.write_tiny_checkpoint(checkpoints / f"tiny-{family}.safetensors", family, 0)
    kiln = KilnServer(base, ["--preview-method", "latent2rgb"])
    kiln.start()
    yield kiln
    kiln.stop()


def text_to_image(sampler_nodes: dict, positive: dict, negative: dict, checkpoint: str) -> dict:
    """Checkpoint → text encodes "6"/"7" → the given sampling nodes (ending in "3") → decode → SaveImage "9"."""
    return {
        "4": node("CheckpointLoaderSimple", ckpt_name=checkpoint),
        "5": node("EmptyLatentImage", width=64, height=64, batch_size=1),
        "6": positive,
        "7": negative,
        **sampler_nodes,
        "8": node("VAEDecode", samples=link("3"), vae=link("4", 2)),
        "9": node("SaveImage", images=link("8"), filename_prefix=f"kiln_{fresh()}"),
    }


def ksampler_graph(seed: int) -> dict:
    sampler = {"3": node("KSampler", seed=seed, steps=3, cfg=7.0, sampler_name="euler", scheduler="normal",
                         denoise=1.0, model=link("4"), positive=link("6"), negative=link("7"),
                         latent_image=link("5"))}
    return text_to_image(sampler, node("CLIPTextEncode", text="a red circle", clip=link("4", 1)),
                         node("CLIPTextEncode", text="blurry", clip=link("4", 1)), "tiny-SD15.safetensors")


def custom_advanced_graph(seed: int) -> dict:
    sampler = {
        "10": node("RandomNoise", noise_seed=seed),
        "11": node("CFGGuider", model=link("4"), positive=link("6"), negative=link("7"), cfg=7.0),
        "12": node("KSamplerSelect", sampler_name="euler"),
        "13": node("BasicScheduler", model=link("4"), scheduler="normal", steps=3, denoise=1.0),
        "3": node("SamplerCustomAdvanced", noise=link("10"), guider=link("11"), sampler=link("12"),
                  sigmas=link("13"), latent_image=link("5")),
    }
    return text_to_image(sampler, node("CLIPTextEncode", text="a red circle", clip=link("4", 1)),
                         node("CLIPTextEncode", text="blurry", clip=link("4", 1)), "tiny-SD15.safetensors")


def sdxl_graph(seed: int, target_size: int = 1024) -> dict:
    def encode(text: str) -> dict:
        return node("CLIPTextEncodeSDXL", clip=link("4", 1), width=1024, height=1024, crop_w=0, crop_h=0,
                    target_width=target_size, target_height=target_size, text_g=text, text_l=text)

    sampler = {
        "12": node("KSamplerSelect", sampler_name="euler"),
        "13": node("BasicScheduler", model=link("4"), scheduler="karras", steps=3, denoise=1.0),
        "3": node("SamplerCustom", model=link("4"), add_noise=True, noise_seed=seed, cfg=6.0, positive=link("6"),
                  negative=link("7"), sampler=link("12"), sigmas=link("13"), latent_image=link("5")),
    }
    return text_to_image(sampler, encode("a red circle"), encode("blurry"), "tiny-SDXL.safetensors")


async def pixels(client: KilnClient, run) -> np.ndarray:
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    [image] = run.outputs()["9"]["images"]
    answer = await client.view(image["filename"], subfolder=image["subfolder"], type=image["type"])
    assert answer.status == 200
    return np.asarray(Image.open(io.BytesIO(answer.body)).convert("RGB"))


async def test_sampler_custom_advanced_draws_the_same_pixels_as_ksampler(client):
    custom_run = await client.run(custom_advanced_graph(321), timeout=120)
    custom = await pixels(client, custom_run)
    reference = await pixels(client, await client.run(ksampler_graph(321), timeout=120))
    assert custom.shape == (64, 64, 3) and custom.std() > 0
    assert np.array_equal(custom, reference)
    assert any(data["node"] == "3" for data in custom_run.of_type("progress"))


async def test_an_sdxl_graph_with_clip_text_encode_sdxl_makes_an_image_that_follows_the_target_size(client):
    first = await pixels(client, await client.run(sdxl_graph(5), timeout=120))
    again = await pixels(client, await client.run(sdxl_graph(5), timeout=120))
    resized = await pixels(client, await client.run(sdxl_graph(5, target_size=512), timeout=120))
    assert first.shape == (64, 64, 3) and first.std() > 0
    assert np.array_equal(first, again)
    assert not np.array_equal(first, resized)


async def test_object_info_lists_the_nodes_under_their_comfyui_modules(client):
    info = await client.get_json("/object_info")
    assert info["SamplerCustomAdvanced"]["python_module"] == "comfy_extras.nodes_custom_sampler"
    assert info["SamplerCustomAdvanced"]["output_name"] == ["output", "denoised_output"]
    assert info["CLIPTextEncodeSDXL"]["python_module"] == "comfy_extras.nodes_clip_sdxl"
    assert info["ModelSamplingDiscrete"]["python_module"] == "comfy_extras.nodes_model_advanced"


async def test_checkpoint_save_writes_a_checkpoint_that_loads_back_and_draws_the_same_picture(client, server):
    prefix = f"checkpoints/saved_{fresh()}"
    save = {"4": node("CheckpointLoaderSimple", ckpt_name="tiny-SD15.safetensors"),
            "1": node("CheckpointSave", model=link("4", 0), clip=link("4", 1), vae=link("4", 2),
                      filename_prefix=prefix)}
    run = await client.run(save, timeout=120, extra_data={"extra_pnginfo": {"workflow": {"nodes": []}}})
    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    saved_name = f"{prefix.split('/')[1]}_00001_.safetensors"
    metadata = comfy.utils.safetensors_metadata(str(server.output_dir / "checkpoints" / saved_name))
    assert json.loads(metadata["workflow"]) == {"nodes": []} and "CheckpointSave" in metadata["prompt"]
    info = await client.get_json("/object_info/CheckpointLoaderSimple")
    assert saved_name in info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0]

    original = await pixels(client, await client.run(ksampler_graph(77), timeout=120))
    graph = ksampler_graph(77)
    graph["4"]["inputs"]["ckpt_name"] = saved_name
    reloaded = await pixels(client, await client.run(graph, timeout=120))
    # Bit-identical weights; fp32 rounding may move a pixel by one level at most.
    assert np.abs(original.astype(int) - reloaded.astype(int)).max() <= 1
