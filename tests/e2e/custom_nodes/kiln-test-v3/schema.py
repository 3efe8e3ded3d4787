"""V3 nodes that show the schema: every input and output type and option, rendered by `/object_info`."""

from enum import Enum

from comfy_api.latest import io

CATEGORY = "kiln_test/v3"
THING = io.Custom("KILN_THING")
SAME_TYPE = io.MatchType.Template("T", [io.Image, io.Mask])


class Flavour(Enum):
    SWEET = "sweet"
    SOUR = "sour"


class KilnTestV3Options(io.ComfyNode):
    """Every widget and option; returns how many inputs it was given."""

    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="KilnTestV3Options",
            display_name="Kiln Test V3 Options",
            category=CATEGORY + "/schema",
            description="Every V3 input type and option.",
            is_experimental=True,
            not_idempotent=True,
            inputs=[
                io.Int.Input("int_slider", default=5, min=0, max=10, step=1, control_after_generate=True,
                             display_mode=io.NumberDisplay.slider, tooltip="An integer slider."),
                io.Float.Input("float_round", default=0.5, min=0.0, max=1.0, step=0.01, round=0.001,
                               display_mode=io.NumberDisplay.number),
                io.String.Input("text", multiline=True, placeholder="type here", default="hi",
                                dynamic_prompts=True),
                io.String.Input("line"),
                io.Boolean.Input("flag", default=True, label_on="yes", label_off="no"),
                io.Combo.Input("mode", options=["a", "b"], default="b", tooltip="A choice."),
                io.Combo.Input("flavour", options=Flavour, default=Flavour.SOUR),
                io.Combo.Input("picture", options=["x.png"], upload=io.UploadType.image,
                               image_folder=io.FolderType.input),
                io.Combo.Input("remote_choice", options=[], remote=io.RemoteOptions(
                    route="/models/checkpoints", refresh_button=True, timeout=1000)),
                io.MultiCombo.Input("tags", options=["x", "y", "z"], default=["x"], placeholder="pick", chip=True),
                io.Image.Input("image", optional=True, tooltip="An image.", display_name="Picture"),
                io.Latent.Input("latent", optional=True, lazy=True),
                io.Int.Input("forced", force_input=True, optional=True),
                io.Int.Input("socketless_int", socketless=True, default=1),
                io.MultiType.Input("image_or_mask", types=[io.Image, io.Mask], optional=True),
                io.MultiType.Input(io.Float.Input("float_or_int", default=1.0), types=[io.Int], optional=True),
                THING.Input("thing", optional=True),
                io.AnyType.Input("anything", optional=True, extra_dict={"rawLink": True}),
                io.MatchType.Input("matched", template=SAME_TYPE, optional=True),
                io.AutogrowDynamic.Input("grow", template_input=io.Int.Input("n"), min=1, max=3),
            ],
            outputs=[
                io.Int.Output(display_name="count", tooltip="How many inputs arrived."),
                io.String.Output(is_output_list=True),
                io.Combo.Output(options=["p", "q"]),
                THING.Output(),
                io.MatchType.Output("same", template=SAME_TYPE),
            ],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def execute(cls, **inputs):
        return io.NodeOutput(len(inputs), ["a", "b"], "p", None, inputs.get("matched"))


class KilnTestV3ApiFlags(io.ComfyNode):
    """An API node that is also deprecated: both flags, and the hidden auth values an API node gets."""

    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnTestV3ApiFlags", category=CATEGORY + "/schema", is_api_node=True,
                         is_deprecated=True, is_output_node=True, inputs=[io.Webcam.Input("webcam")])

    @classmethod
    def execute(cls, webcam):
        return io.NodeOutput()


NODES = [KilnTestV3Options, KilnTestV3ApiFlags]
