"""The deprecated loaders and HypernetworkLoader give ComfyUI's recorded runs (tests/fixtures/comfyui_nodes/loaders,
recorded by tools/oracle/record_loader_nodes.py): the reference SD1.5 checkpoint loaded with an LDM config
(v-prediction and CLIP skip from the config), as a diffusers folder, and with a random hypernetwork, each
sampled with the recorded euler workflow; latents within 1e-4 of their largest value, images within 2 levels."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer
from .recorded_runs import replay_and_compare

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "loaders"
CASES = sorted(path.stem for path in RECORDED.glob("*.json"))


def _loader_files():
    spec = importlib.util.spec_from_file_location("kiln_make_loader_files", RECORDED.parent / "make_loader_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(tmp_path_factory, reference_checkpoint):
    """A server whose models folder holds the reference checkpoint, the config, the hypernetwork and the
    checkpoint as a diffusers folder (1.9 GB, deleted afterwards)."""
    base = tmp_path_factory.mktemp("kiln-loaders")
    models = base / "models"
    (models / "checkpoints").mkdir(parents=True)
    (models / "checkpoints" / "ref-sd15.safetensors").symlink_to(reference_checkpoint)
    files = _loader_files()
    files.write_config(str(models))
    files.write_hypernetwork(str(models))
    files.write_diffusers_folder(str(reference_checkpoint), str(models))
    kiln = KilnServer(base, [])
    kiln.start()
    yield kiln
    kiln.stop()
    shutil.rmtree(models / "diffusers", ignore_errors=True)


def test_every_loader_has_a_recorded_run():
    assert CASES == ["checkpoint_loader_config", "diffusers_loader", "hypernetwork_loader"]


@pytest.mark.asyncio
@pytest.mark.parametrize("case", CASES)
async def test_loader_run_reproduces_comfyuis_latent_and_image(client, case):
    recorded = json.loads((RECORDED / f"{case}.json").read_text())
    reference = load_file(str(RECORDED / f"{case}.safetensors"))
    await replay_and_compare(client, recorded["workflow"], reference, latent_rtol=1e-4)
