"""comfy_execution.node_info: the exact per-node /object_info JSON of V1 nodes."""

from __future__ import annotations

import json
import logging
import sys
import types

import pytest

from comfy_execution.node_info import all_node_info, node_info


class FancyNode:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The picture."}),
                "mode": (["fast", "slow"], {"default": "fast"}),
                "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 2.0, "step": 0.01}),
            },
            "optional": {"mask": ("MASK",)},
            "hidden": {"prompt": "PROMPT", "unique_id": "UNIQUE_ID"},
        }

    RETURN_TYPES = ("IMAGE", "INT")
    RETURN_NAMES = ("images", "count")
    OUTPUT_IS_LIST = (True, False)
    OUTPUT_TOOLTIPS = ("The images.", "How many.")
    FUNCTION = "run"
    CATEGORY = "image/fancy"
    DESCRIPTION = "Does fancy things."
    OUTPUT_NODE = True
    DEPRECATED = True
    EXPERIMENTAL = True
    API_NODE = False
    RELATIVE_PYTHON_MODULE = "custom_nodes.fancy-pack"


class PlainNode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": 0})}}

    RETURN_TYPES = ("INT",)
    FUNCTION = "run"


class BrokenNode:
    @classmethod
    def INPUT_TYPES(cls):
        raise RuntimeError("models folder missing")

    RETURN_TYPES = ()
    FUNCTION = "run"


class UnserialisableNode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"value": ("INT", {"default": object()})}}

    RETURN_TYPES = ()
    FUNCTION = "run"


class SelfDescribingNode:
    @classmethod
    def GET_NODE_INFO_V1(cls):
        return {"name": "SelfDescribingNode", "input": {}}


@pytest.fixture
def registry(monkeypatch):
    fake = types.ModuleType("nodes")
    fake.NODE_CLASS_MAPPINGS = {"FancyNode": FancyNode, "PlainNode": PlainNode}
    fake.NODE_DISPLAY_NAME_MAPPINGS = {"FancyNode": "Fancy Node"}
    fake.EXTENSION_WEB_DIRS = {}
    fake.LOADED_MODULE_DIRS = {}
    monkeypatch.setitem(sys.modules, "nodes", fake)
    return fake


def test_v1_node_info_has_exact_keys_values_and_order(registry):
    info = node_info("FancyNode")
    assert list(info) == ["input", "input_order", "output", "output_is_list", "output_name", "name", "display_name",
                          "description", "python_module", "category", "output_node", "output_tooltips",
                          "deprecated", "experimental", "api_node"]
    assert info == {
        "input": {
            "required": {
                "image": ["IMAGE", {"tooltip": "The picture."}],
                "mode": [["fast", "slow"], {"default": "fast"}],
                "strength": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 2.0, "step": 0.01}],
            },
            "optional": {"mask": ["MASK"]},
            "hidden": {"prompt": "PROMPT", "unique_id": "UNIQUE_ID"},
        },
        "input_order": {"required": ["image", "mode", "strength"], "optional": ["mask"],
                        "hidden": ["prompt", "unique_id"]},
        "output": ["IMAGE", "INT"],
        "output_is_list": [True, False],
        "output_name": ["images", "count"],
        "name": "FancyNode",
        "display_name": "Fancy Node",
        "description": "Does fancy things.",
        "python_module": "custom_nodes.fancy-pack",
        "category": "image/fancy",
        "output_node": True,
        "output_tooltips": ["The images.", "How many."],
        "deprecated": True,
        "experimental": True,
        "api_node": False,
    }


def test_v1_node_info_uses_comfyui_defaults_and_omits_optional_keys(registry):
    info = node_info("PlainNode")
    assert info == {
        "input": {"required": {"value": ["INT", {"default": 0}]}},
        "input_order": {"required": ["value"]},
        "output": ["INT"],
        "output_is_list": [False],
        "output_name": ["INT"],
        "name": "PlainNode",
        "display_name": "PlainNode",
        "description": "",
        "python_module": "nodes",
        "category": "sd",
        "output_node": False,
    }
    assert list(info)[-1] == "output_node"


def test_node_info_output_is_plain_json_without_tuples(registry):
    info = node_info("FancyNode")
    assert json.loads(json.dumps(info)) == info


def test_node_info_of_unknown_class_raises_key_error(registry):
    with pytest.raises(KeyError):
        node_info("NoSuchNode")


def test_node_info_delegates_to_get_node_info_v1_when_the_class_has_it(registry):
    registry.NODE_CLASS_MAPPINGS["SelfDescribingNode"] = SelfDescribingNode
    assert node_info("SelfDescribingNode") == {"name": "SelfDescribingNode", "input": {}}


def test_all_node_info_lists_nodes_in_registration_order_and_skips_broken_ones(registry, caplog):
    registry.NODE_CLASS_MAPPINGS["BrokenNode"] = BrokenNode
    registry.NODE_CLASS_MAPPINGS["UnserialisableNode"] = UnserialisableNode
    registry.NODE_CLASS_MAPPINGS["ZLast"] = PlainNode
    with caplog.at_level(logging.ERROR):
        result = all_node_info()
    assert list(result) == ["FancyNode", "PlainNode", "ZLast"]
    assert result["ZLast"]["name"] == "ZLast"
    assert "retrieving information for the 'BrokenNode' node" in caplog.text
    assert "models folder missing" in caplog.text
    assert "retrieving information for the 'UnserialisableNode' node" in caplog.text
