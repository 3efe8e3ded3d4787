"""/object_info of the everyday nodes (images, masks, latents, strings, video, audio, upscale models, old loaders)
equals ComfyUI 0.3.64's, as recorded in tests/fixtures/comfyui_nodes/object_info.json by
tools/oracle/record_everyday_nodes.py.

Combo lists of files (input folder, model folders) depend on the machine, so they are compared as lists only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nodes
from comfy_execution import node_loading
from comfy_execution.node_info import node_info

RECORDED = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_nodes" / "object_info.json")
                      .read_text())

# (node, input section, input name) whose options are the files of a folder.
FILE_LISTS = {
    ("LoadVideo", "required", "file"), ("LoadAudio", "required", "audio"),
    ("UpscaleModelLoader", "required", "model_name"), ("HypernetworkLoader", "required", "hypernetwork_name"),
    ("CheckpointLoader", "required", "config_name"), ("CheckpointLoader", "required", "ckpt_name"),
    ("DiffusersLoader", "required", "model_path"),
}


def _without_file_lists(name: str, info: dict) -> dict:
    info = json.loads(json.dumps(info))
    for node, section, input_name in FILE_LISTS:
        if node != name:
            continue
        spec = info["input"][section][input_name]
        if spec[0] == "COMBO":
            assert isinstance(spec[1]["options"], list)
            spec[1]["options"] = []
        else:
            assert isinstance(spec[0], list)
            spec[0] = []
    return info


@pytest.fixture(scope="module")
def registry():
    """The core nodes plus every comfy_extras module, loaded as the server loads them; restored afterwards."""
    saved_classes = dict(nodes.NODE_CLASS_MAPPINGS)
    saved_names = dict(nodes.NODE_DISPLAY_NAME_MAPPINGS)
    failed = node_loading.init_builtin_extra_nodes()
    assert failed == []
    yield nodes.NODE_CLASS_MAPPINGS
    nodes.NODE_CLASS_MAPPINGS.clear()
    nodes.NODE_CLASS_MAPPINGS.update(saved_classes)
    nodes.NODE_DISPLAY_NAME_MAPPINGS.clear()
    nodes.NODE_DISPLAY_NAME_MAPPINGS.update(saved_names)


def test_the_fixture_covers_every_node_of_the_issue():
    assert len(RECORDED) == 89
    assert {"SaveVideo", "LoadAudio", "ImageUpscaleWithModel", "HypernetworkLoader", "WebcamCapture",
            "LTXVPreprocess"} <= set(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_object_info_entry_equals_comfyui(registry, name):
    assert name in registry, f"{name} is not registered"
    kiln = _without_file_lists(name, node_info(name))
    comfy = _without_file_lists(name, RECORDED[name])

    assert kiln == comfy
    assert list(kiln) == list(comfy)  # the key order clients see
