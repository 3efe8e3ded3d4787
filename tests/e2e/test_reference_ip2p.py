"""InstructPixToPixConditioning on an SD1.5 instruct-pix2pix checkpoint (the reference SD1.5 with 4 more UNet
input channels, tests/fixtures/comfyui_nodes/make_ip2p_checkpoint.py) gives ComfyUI 0.3.64's recorded final latent
(tools/oracle/record_ip2p.py) within 1e-4 of its largest value, through the shared reference server; the picture is
76x68, so the node's crop to multiples of 8 is part of the case."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from .conftest import KilnServer, added_files_removed, running
from .recorded_runs import assert_latent_close, request, run_prompt, saved_latents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes"
RECORDED = FIXTURES / "ip2p"
sys.path.insert(0, str(FIXTURES))
import make_ip2p_checkpoint  # noqa: E402

WORKFLOW = json.loads((RECORDED / "workflow.json").read_text())
OBJECT_INFO = json.loads((RECORDED / "object_info.json").read_text())


@pytest.fixture(scope="module")
def server(reference_server: KilnServer, reference_checkpoint: Path, module_tmp) -> Iterator[KilnServer]:
    """The shared reference server, with the instruct-pix2pix checkpoint beside ref-sd15 and the picture in its
    input folder."""
    kiln = running(reference_server)
    checkpoint_name = WORKFLOW["1"]["inputs"]["ckpt_name"]
    built = make_ip2p_checkpoint.build(reference_checkpoint, module_tmp("ip2p") / checkpoint_name)
    (kiln.base_dir / "input").mkdir(exist_ok=True)
    make_ip2p_checkpoint.picture().save(kiln.base_dir / "input" / WORKFLOW["4"]["inputs"]["image"])
    with added_files_removed(kiln.base_dir / "models"):
        (kiln.base_dir / "models" / "checkpoints" / checkpoint_name).symlink_to(built)
        yield kiln


def test_instruct_pix2pix_reproduces_comfyuis_latent(server):
    actual = saved_latents(server.url, run_prompt(server.url, WORKFLOW), {"latent": "7"})["latent"]
    expected = load_file(str(RECORDED / "latent.safetensors"))["latent"]
    assert expected.shape == (1, 4, 8, 9)  # 68x76 cropped to 64x72
    assert_latent_close(actual, expected, 1e-4, "ip2p")


def test_object_info_entry_equals_comfyuis(server):
    served = json.loads(request(f"{server.url}/object_info/InstructPixToPixConditioning"))
    assert served == OBJECT_INFO
