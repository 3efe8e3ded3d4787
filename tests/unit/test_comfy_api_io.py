"""comfy_api.latest.io and ui: how V3 inputs, outputs and schemas render as ComfyUI 0.3.64 renders them, the
classic attributes a V3 node answers to, and how one call runs (a locked class clone holding the hidden values).

The rendered shapes here are ComfyUI's (checked against the oracle; the whole of it is compared in
tests/e2e/test_v3_nodes.py and tests/unit/test_v3_extras.py).
"""

from __future__ import annotations

import asyncio
from enum import Enum

import pytest
import torch
from PIL import Image

import folder_paths
from comfy_api.internal import first_real_override, make_locked_method_func
from comfy_api.latest import ComfyAPI, ComfyAPISync, io, ui
from comfy_execution.graph import ExecutionBlocker


def rendered(item: io.Input) -> tuple:
    inputs: dict = {}
    io.add_to_dict_v1(item, inputs)
    return next(iter(next(iter(inputs.values())).values()))


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


def test_widget_options_render_in_comfyuis_key_order_without_none_values():
    assert rendered(io.Int.Input("n", default=5, min=0, max=9, step=1, tooltip="t", control_after_generate=True,
                                 display_mode=io.NumberDisplay.slider)) == (
        "INT", {"tooltip": "t", "default": 5, "min": 0, "max": 9, "step": 1, "control_after_generate": True,
                "display": "slider"})
    assert list(rendered(io.Float.Input("f", round=0.01, default=0.5, lazy=True))[1]) == ["lazy", "default", "round"]
    assert rendered(io.String.Input("s")) == ("STRING", {"multiline": False})
    assert rendered(io.Boolean.Input("b", default=True, label_on="on")) == ("BOOLEAN", {"default": True,
                                                                                        "label_on": "on"})
    assert rendered(io.Image.Input("i", optional=True)) == ("IMAGE", {})


def test_combo_renders_as_the_combo_type_with_its_options():
    assert rendered(io.Combo.Input("c", options=Colour, default=Colour.BLUE, upload=io.UploadType.video)) == (
        "COMBO", {"default": "blue", "multiselect": False, "options": ["red", "blue"], "video_upload": True})
    assert rendered(io.MultiCombo.Input("m", options=["a"], chip=True))[1] == {
        "multiselect": True, "options": ["a"], "multi_select": True, "chip": True}


def test_multitype_joins_its_types_and_takes_the_widget_of_an_input_given_as_id():
    assert rendered(io.MultiType.Input("x", types=[io.Image, io.Mask])) == ("IMAGE,MASK", {})
    assert rendered(io.MultiType.Input(io.Float.Input("v", default=1.0), types=[io.Int])) == (
        "FLOAT,INT", {"default": 1.0, "widgetType": "FLOAT"})


def test_autogrow_expands_to_numbered_socket_inputs_optional_past_the_minimum():
    schema = io.Schema("Grow", inputs=[io.AutogrowDynamic.Input("g", template_input=io.Int.Input("n"), min=1,
                                                                max=3)])
    inputs = schema.get_v1_info(None).input

    assert list(inputs["required"]) == ["n1_$g_ag$"] and list(inputs["optional"]) == ["n2_$g_ag$", "n3_$g_ag$"]
    assert inputs["optional"]["n3_$g_ag$"] == ("INT", {"forceInput": True})


def test_custom_types_get_their_own_input_and_output_classes():
    thing = io.Custom("THING")

    assert thing.Input("t").get_io_type() == "THING" and thing.Output().io_type == "THING"
    assert io.Image.Input("i").io_type == "IMAGE"
    assert io.ComfyTypeIO.Input.Parent is None  # binding a type leaves the shared base alone


def test_type_names_match_wildcards_and_overlapping_comma_sets():
    assert not io.AnyType.io_type != "LATENT"
    assert not io.Image.Input("x").get_io_type() != "IMAGE,MASK"
    assert io.Image.io_type != "MASK"


def test_schema_finalize_adds_the_hidden_values_output_and_api_nodes_need_and_output_ids():
    schema = io.Schema("Out", is_output_node=True, is_api_node=True, hidden=[io.Hidden.unique_id],
                       outputs=[io.Int.Output(), io.Image.Output()])
    schema.finalize()

    assert schema.hidden == [io.Hidden.unique_id, io.Hidden.auth_token_comfy_org, io.Hidden.api_key_comfy_org,
                             io.Hidden.prompt, io.Hidden.extra_pnginfo]
    assert [output.id for output in schema.outputs] == ["_0_INT_", "_1_IMAGE_"]
    assert schema.get_v1_info(None).input["hidden"]["unique_id"] == ("UNIQUE_ID",)


@pytest.mark.parametrize("inputs, outputs, message", [
    (["a", "a"], [], "Input ids must be unique, but ['a'] are not."),
    ([], ["o", "o"], "Output ids must be unique, but ['o'] are not."),
    (["x"], ["x"], "Ids must be unique between inputs and outputs, but {'x'} are not."),
])
def test_schema_validate_refuses_repeated_ids(inputs, outputs, message):
    schema = io.Schema("Bad", inputs=[io.Int.Input(name) for name in inputs],
                       outputs=[io.Int.Output(name) for name in outputs])

    with pytest.raises(ValueError) as raised:
        schema.validate()
    assert str(raised.value) == message


class Adder(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="Adder", category="tests", is_output_node=True, not_idempotent=True,
                         inputs=[io.Int.Input("a"), io.Int.Input("b", optional=True)],
                         outputs=[io.Int.Output(display_name="sum", tooltip="a + b"), io.String.Output(
                             is_output_list=True)],
                         hidden=[io.Hidden.unique_id])

    @classmethod
    def execute(cls, a, b=0):
        return io.NodeOutput(a + b, [str(cls.hidden.unique_id)], ui=ui.PreviewText(f"{a}+{b}"))

    @classmethod
    def validate_inputs(cls, a):
        return True


class SlowAdder(Adder):
    @classmethod
    async def execute(cls, a, b=0):
        await asyncio.sleep(0)
        return io.NodeOutput(a + b)


def test_v3_node_answers_the_classic_attributes_from_its_schema():
    assert Adder.RETURN_TYPES == ["INT", "STRING"] and Adder.RETURN_NAMES == ["sum", "STRING"]
    assert Adder.OUTPUT_IS_LIST == [False, True] and Adder.OUTPUT_TOOLTIPS == ["a + b", None]
    assert (Adder.CATEGORY, Adder.OUTPUT_NODE, Adder.NOT_IDEMPOTENT, Adder.INPUT_IS_LIST) == ("tests", True, True,
                                                                                            False)
    assert Adder.FUNCTION == "EXECUTE_NORMALIZED" and SlowAdder.FUNCTION == "EXECUTE_NORMALIZED_ASYNC"
    assert list(Adder.INPUT_TYPES()) == ["required", "optional", "hidden"]
    assert list(Adder.INPUT_TYPES(include_hidden=False)) == ["required", "optional"]


def test_v1_info_has_every_v3_key_and_a_null_display_name_when_none_is_given():
    info = Adder.GET_NODE_INFO_V1()

    assert list(info) == ["input", "input_order", "output", "output_is_list", "output_name", "output_tooltips",
                          "name", "display_name", "description", "python_module", "category", "output_node",
                          "deprecated", "experimental", "api_node"]
    assert info["display_name"] is None and info["description"] == "" and info["python_module"] is None
    assert info["input_order"]["hidden"] == ["unique_id", "prompt", "extra_pnginfo"]
    assert info["input"]["hidden"] == {"unique_id": ("UNIQUE_ID",), "prompt": ("PROMPT",),
                                       "extra_pnginfo": ("EXTRA_PNGINFO",)}


def test_only_the_hooks_a_node_defines_count_as_overrides():
    assert first_real_override(Adder, "validate_inputs") is not None
    assert first_real_override(Adder, "fingerprint_inputs") is None
    assert first_real_override(Adder, "check_lazy_status") is None


def test_a_node_class_without_execute_is_refused_when_instantiated():
    class NoExecute(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema("NoExecute")

    with pytest.raises(Exception, match="No execute function was defined for node class NoExecute."):
        NoExecute()


def test_a_call_runs_on_a_locked_clone_that_holds_its_hidden_values():
    clone = Adder.PREPARE_CLASS_CLONE({io.Hidden.unique_id: "7"})
    output = make_locked_method_func(Adder, "EXECUTE_NORMALIZED", clone)(a=1, b=2)

    assert output.result == (3, ["7"]) and output.ui.as_dict() == {"text": ("1+2",)}
    assert Adder.hidden is None and clone.hidden.unique_id == "7" and clone.hidden.prompt is None

    class Setter(Adder):
        @classmethod
        def execute(cls, a, b=0):
            cls.remembered = a

    with pytest.raises(AttributeError, match="Cannot modify class attribute 'remembered' on locked class "
                                             "'SetterClone'"):
        make_locked_method_func(Setter, "EXECUTE_NORMALIZED", Setter.PREPARE_CLASS_CLONE({}))(a=1)


def test_async_execute_stays_async_through_the_lock():
    call = make_locked_method_func(SlowAdder, "EXECUTE_NORMALIZED_ASYNC", SlowAdder.PREPARE_CLASS_CLONE({}))

    assert asyncio.iscoroutinefunction(call)
    assert asyncio.run(call(a=2, b=3)).result == (5,)


class Returns(io.ComfyNode):
    value = None

    @classmethod
    def define_schema(cls):
        return io.Schema("Returns", outputs=[io.Int.Output()])

    @classmethod
    def execute(cls):
        return cls.value


@pytest.mark.parametrize("value, result, block", [
    (None, None, None), ((4,), (4,), None), ({"result": (5,), "ui": {"x": [1]}}, (5,), None),
    (ExecutionBlocker("stop"), None, "stop"), (io.NodeOutput(6), (6,), None),
])
def test_whatever_execute_returns_becomes_a_node_output(value, result, block):
    Returns.value = value
    output = Returns.EXECUTE_NORMALIZED()

    assert isinstance(output, io.NodeOutput)
    assert (output.result, output.block_execution) == (result, block)


def test_an_unknown_return_type_or_an_expansion_without_enable_expand_is_an_error():
    Returns.value = 3
    with pytest.raises(Exception, match="Invalid return type from node: <class 'int'>"):
        Returns.EXECUTE_NORMALIZED()
    Returns.value = io.NodeOutput(1, expand={})
    with pytest.raises(Exception, match="Node Returns is not expandable"):
        Returns.EXECUTE_NORMALIZED()


def test_node_output_indexes_and_unpacks_like_the_classic_tuple():
    (first, second) = io.NodeOutput(1, 2)

    assert (first, second) == (1, 2) and io.NodeOutput(1)[0] == 1 and io.NodeOutput().result is None


def test_preview_image_writes_to_temp_with_the_prompt_only_when_the_node_was_given_one(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_paths, "temp_directory", str(tmp_path))
    clone = Adder.PREPARE_CLASS_CLONE({io.Hidden.prompt: {"1": {}}, io.Hidden.extra_pnginfo: {"workflow": {}}})
    image = torch.full((1, 2, 3, 3), 0.5)

    with_prompt = ui.PreviewImage(image, cls=clone).as_dict()
    plain = ui.PreviewMask(torch.zeros(1, 2, 3)).as_dict()

    assert with_prompt["animated"] == (False,) and with_prompt["images"][0]["type"] == "temp"
    assert with_prompt["images"][0]["filename"].startswith("ComfyUI_temp_")
    with Image.open(tmp_path / with_prompt["images"][0]["filename"]) as saved:
        assert saved.size == (3, 2) and set(saved.text) == {"prompt", "workflow"}
    with Image.open(tmp_path / plain["images"][0]["filename"]) as saved:
        assert saved.mode == "RGB" and not saved.text


def test_saved_results_are_the_frontends_file_references():
    result = ui.SavedResult("a.png", "sub", io.FolderType.output)

    assert result == {"filename": "a.png", "subfolder": "sub", "type": "output"}
    assert ui.SavedImages([result], is_animated=True).as_dict() == {"images": [result], "animated": (True,)}
    assert ui.PreviewVideo([result]).as_dict() == {"images": [result], "animated": (True,)}


def test_progress_api_objects_have_execution_sync_and_async():
    assert ComfyAPI().execution is ComfyAPI().execution
    with pytest.raises(ValueError, match="node_id must be provided"):
        ComfyAPISync().execution.set_progress(1, 2)


def test_the_versioned_apis_share_the_v3_schema():
    from comfy_api import v0_0_1, v0_0_2, version_list

    assert v0_0_2.io is io and v0_0_2.ComfyExtension is not None and not hasattr(v0_0_1, "io")
    assert [api.VERSION for api in version_list.supported_versions] == ["latest", "0.0.2", "0.0.1"]
