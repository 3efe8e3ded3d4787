"""The kiln-test-host-api pack through the real server: classic custom nodes written against ComfyUI's host API
(subclassed core nodes, reused comfy_extras nodes, a replaced `optimized_attention`, custom `comfy.ops` passed to a
loader) load and give the expected numbers on a tiny generated SD1.5 checkpoint. The V3 side (ComfyExtension,
io.ComfyNode, hidden inputs, NodeOutput with ui) is proved by test_v3_nodes.py against ComfyUI's recorded runs.
"""

from __future__ import annotations

import pytest

from tests import model_factory

from .client import KilnClient
from .conftest import TEST_CUSTOM_NODES, KilnServer
from .graphs import link, node

pytestmark = pytest.mark.asyncio

CHECKPOINT = "tiny-SD15.safetensors"
# Kept apart from the other test packs: it imports the model stack (comfy.sd, comfy.ldm) when it loads, as the
# packs it imitates do, which would add seconds to the start of every other test's server.
HOST_API_NODES = TEST_CUSTOM_NODES.parent / "custom_nodes_host_api"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server (with the test packs and kiln-test-host-api) whose models/checkpoints folder holds one tiny SD1.5
    checkpoint."""
    base = tmp_path_factory.mktemp("kiln-host-api")
    checkpoints = base / "models" / "checkpoints"
    checkpoints.mkdir(parents=True)
    model_factory.write_tiny_checkpoint(checkpoints / CHECKPOINT, "SD15", 0)
    kiln = KilnServer(base, [], [TEST_CUSTOM_NODES, HOST_API_NODES])
    kiln.start()
    yield kiln
    kiln.stop()


def _stats(run, node_id: str = "stats") -> dict:
    return {key: values[0] for key, values in run.outputs()[node_id].items()}


def _sampling_prompt(seed: int, sampler: dict, model: list | None = None) -> dict:
    """Checkpoint → text encodes → `sampler` node (id "3", its sampling inputs filled in) → stats."""
    prompt = {
        "4": node("CheckpointLoaderSimple", ckpt_name=CHECKPOINT),
        "5": node("EmptyLatentImage", width=64, height=64, batch_size=1),
        "6": node("CLIPTextEncode", text="a red circle", clip=link("4", 1)),
        "7": node("CLIPTextEncode", text="blurry", clip=link("4", 1)),
        "3": sampler,
        "stats": node("KilnHostLatentStats", samples=link("3")),
    }
    sampler["inputs"].update(model=model or link("4", 0), positive=link("6"), negative=link("7"),
                             latent_image=link("5"), seed=seed)
    return prompt


def _ksampler(steps: int = 2) -> dict:
    return node("KSampler", steps=steps, cfg=7.0, sampler_name="euler", scheduler="normal", denoise=1.0)


async def test_the_pack_loads_beside_the_core_nodes(client: KilnClient):
    info = await client.get_json("/object_info")

    assert {name for name in info if name.startswith("KilnHost")} == {
        "KilnHostFilledLatent", "KilnHostLatentTwice", "KilnHostSolidMaskSum", "KilnHostLatentStats",
        "KilnHostAttentionSampler", "KilnHostOpsModelLoader", "KilnHostOpsCalls"}
    filled = info["KilnHostFilledLatent"]["input"]["required"]
    assert list(filled) == ["width", "height", "batch_size", "value"]  # EmptyLatentImage's inputs, extended
    assert filled["width"] == info["EmptyLatentImage"]["input"]["required"]["width"]


async def test_a_subclassed_core_node_and_a_reused_comfy_extras_node_give_their_numbers(client: KilnClient):
    prompt = {
        "1": node("KilnHostFilledLatent", width=64, height=32, batch_size=2, value=0.75),
        "2": node("KilnHostLatentTwice", samples=link("1")),
        "stats": node("KilnHostLatentStats", samples=link("2")),
        "mask": node("KilnHostSolidMaskSum", value=0.25, width=8, height=4),
    }
    run = await client.run(prompt)

    assert run.history["status"]["status_str"] == "success"
    assert _stats(run) == {"shape": [2, 4, 4, 8], "sum": 1.5 * 2 * 4 * 4 * 8, "mean": 1.5, "abs_sum": 384.0}
    assert run.outputs()["mask"] == {"mask_sum": [8.0], "mask_shape": [[1, 4, 8]]}


async def test_replacing_optimized_attention_changes_what_the_model_computes(client: KilnClient):
    plain = _stats(await client.run(_sampling_prompt(11, _ksampler())))
    same = await client.run(_sampling_prompt(11, node("KilnHostAttentionSampler", steps=2, scale=1.0)))
    scaled = await client.run(_sampling_prompt(11, node("KilnHostAttentionSampler", steps=2, scale=0.5)))

    # the replacement ran for every attention layer of every model call, and at scale 1 changed nothing
    calls = same.outputs()["3"]["attention_calls"][0]
    assert calls > 0 and calls % 2 == 0
    assert scaled.outputs()["3"]["attention_calls"][0] == calls
    assert _stats(same) == plain
    assert _stats(scaled)["abs_sum"] != plain["abs_sum"]


async def test_custom_comfy_ops_passed_to_a_loader_compute_the_model(client: KilnClient):
    plain = _stats(await client.run(_sampling_prompt(12, _ksampler())))
    same = await client.run({**_sampling_prompt(12, _ksampler(), model=link("ops")),
                             "ops": node("KilnHostOpsModelLoader", ckpt_name=CHECKPOINT, weight_scale=1.0),
                             "calls": node("KilnHostOpsCalls", samples=link("3"))})
    zeroed = await client.run({**_sampling_prompt(12, _ksampler(), model=link("ops")),
                               "ops": node("KilnHostOpsModelLoader", ckpt_name=CHECKPOINT, weight_scale=0.0),
                               "calls": node("KilnHostOpsCalls", samples=link("3"))})

    assert same.history["status"]["status_str"] == "success", same.history["status"]
    # the pack's layers hold and compute the model's weights; not bit for bit, because Kiln's CPU speed-ups
    # (comfy/cpu_speedups.py: 3x3 convolutions on small maps as unfold + matmul) apply to torch's own Conv2d only
    same_stats = _stats(same)
    assert same_stats.pop("shape") == plain.pop("shape")
    assert same_stats == pytest.approx(plain, rel=1e-5)
    assert same.outputs()["calls"]["linear_calls"][0] > 0
    assert _stats(zeroed)["abs_sum"] != plain["abs_sum"]
    assert zeroed.outputs()["calls"]["linear_calls"][0] > same.outputs()["calls"]["linear_calls"][0]
