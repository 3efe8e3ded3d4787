"""A V3 pack whose second node has an invalid schema (two inputs with one id); the first node is fine."""

from comfy_api.latest import ComfyExtension, io


class KilnBrokenV3Good(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnBrokenV3Good", category="kiln_test/broken",
                         inputs=[io.Int.Input("value")], outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value):
        return io.NodeOutput(value)


class KilnBrokenV3DuplicateInputs(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="KilnBrokenV3DuplicateInputs", category="kiln_test/broken",
                         inputs=[io.Int.Input("value"), io.Float.Input("value")], outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, value):
        return io.NodeOutput(value)


class KilnBrokenV3Extension(ComfyExtension):
    async def get_node_list(self):
        return [KilnBrokenV3Good, KilnBrokenV3DuplicateInputs]


def comfy_entrypoint() -> KilnBrokenV3Extension:
    return KilnBrokenV3Extension()
