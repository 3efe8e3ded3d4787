"""Kiln's comfy_extras modules that ComfyUI 0.3.64 writes in its V3 schema are V3 modules too: they export only
`comfy_entrypoint()` (no NODE_CLASS_MAPPINGS), every node is an `io.ComfyNode` under ComfyUI's class name, and
each node's `/object_info` entry equals ComfyUI's (tests/fixtures/comfyui/object_info_0.3.64.json; option lists
of files depend on the machine and are compared as lists only).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from comfy_api.latest import ComfyExtension, io
from comfy_execution import node_loading
from comfy_execution.node_info import node_info

RECORDED = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "comfyui" / "object_info_0.3.64.json")
                      .read_text())
EXTRAS = Path(__file__).resolve().parents[2] / "comfy_extras"

# ComfyUI 0.3.64's comfy_extras modules that define comfy_entrypoint() (56 of its 75).
COMFYUI_V3_MODULES = {
    "nodes_ace", "nodes_advanced_samplers", "nodes_align_your_steps", "nodes_apg", "nodes_attention_multiply",
    "nodes_audio_encoder", "nodes_camera_trajectory", "nodes_canny", "nodes_cfg", "nodes_chroma_radiance",
    "nodes_clip_sdxl", "nodes_compositing", "nodes_cond", "nodes_context_windows", "nodes_cosmos",
    "nodes_differential_diffusion", "nodes_easycache", "nodes_edit_model", "nodes_eps", "nodes_flux", "nodes_fresca",
    "nodes_gits", "nodes_hidream", "nodes_hypertile", "nodes_ip2p", "nodes_latent", "nodes_lora_extract",
    "nodes_lotus", "nodes_lt", "nodes_lumina2", "nodes_mahiro", "nodes_mochi", "nodes_model_downscale",
    "nodes_morphology", "nodes_optimalsteps", "nodes_pag", "nodes_perpneg", "nodes_photomaker", "nodes_pixart",
    "nodes_post_processing", "nodes_primitive", "nodes_qwen", "nodes_rebatch", "nodes_sag", "nodes_sd3",
    "nodes_sdupscale", "nodes_slg", "nodes_stable3d", "nodes_stable_cascade", "nodes_string", "nodes_tcfg",
    "nodes_tomesd", "nodes_torch_compile", "nodes_upscale_model", "nodes_video", "nodes_wan",
}
# ... those Kiln implements: the others are modules of faces (comfy/unsupported.py), which register no nodes.
KILN_V3_MODULES = sorted(path.stem for path in EXTRAS.glob("nodes_*.py") if path.stem in COMFYUI_V3_MODULES
                         and not getattr(importlib.import_module(f"comfy_extras.{path.stem}"), "__kiln_faces__", False))
# Modules of that list Kiln still writes classically (none now: each that is here is V3).
STILL_CLASSIC: dict[str, str] = {}

# Node classes whose combo options are the files of a folder.
FILE_LISTS = {("TripleCLIPLoader", "clip_name1"), ("TripleCLIPLoader", "clip_name2"),
              ("TripleCLIPLoader", "clip_name3"), ("UpscaleModelLoader", "model_name"), ("LoadVideo", "file")}


def _module(name: str):
    return importlib.import_module(f"comfy_extras.{name}")


def _node_modules() -> dict[str, str]:
    """{node id: module name} of the nodes of those modules."""
    return {node_id: name for name in KILN_V3_MODULES for node_id in node_loading.module_node_classes(_module(name))}


def _without_file_lists(name: str, info: dict) -> dict:
    info = json.loads(json.dumps(info))
    for node, input_name in FILE_LISTS:
        if node == name:
            info["input"]["required"][input_name][1]["options"] = []
    return info


def test_kiln_has_the_v3_modules_of_its_everyday_and_flow_nodes():
    assert {"nodes_clip_sdxl", "nodes_compositing", "nodes_flux", "nodes_latent", "nodes_morphology",
            "nodes_post_processing", "nodes_primitive", "nodes_rebatch", "nodes_sd3", "nodes_string",
            "nodes_upscale_model", "nodes_video"} <= set(KILN_V3_MODULES)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=STILL_CLASSIC[name], strict=True))
    if name in STILL_CLASSIC else name for name in KILN_V3_MODULES])
def test_module_comfyui_writes_in_v3_exports_only_a_comfy_extension(name):
    module = _module(name)
    extension = node_loading._run_to_completion(module.comfy_entrypoint())

    assert not hasattr(module, "NODE_CLASS_MAPPINGS")
    assert isinstance(extension, ComfyExtension)
    for node_class in node_loading._run_to_completion(extension.get_node_list()):
        assert issubclass(node_class, io.ComfyNode)
        assert getattr(module, node_class.__name__) is node_class  # importable by ComfyUI's class name


@pytest.mark.parametrize("name", sorted(_node_modules()))
def test_v3_node_object_info_equals_comfyui(registry, name):
    assert issubclass(registry[name], io.ComfyNode) or _node_modules()[name] in STILL_CLASSIC
    kiln = _without_file_lists(name, node_info(name))
    comfy = _without_file_lists(name, RECORDED[name])

    assert kiln == comfy
    assert list(kiln) == list(comfy)  # the key order clients see


def test_the_classic_triple_clip_loader_gives_way_to_the_v3_one_once_extras_load(registry):
    assert registry["TripleCLIPLoader"].RELATIVE_PYTHON_MODULE == "comfy_extras.nodes_sd3"
    assert issubclass(registry["TripleCLIPLoader"], io.ComfyNode)
