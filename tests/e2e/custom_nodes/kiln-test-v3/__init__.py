"""Test-only V3 custom nodes (`comfy_api.latest`), loaded by the end-to-end server beside kiln-test-nodes.

The pack exports only `comfy_entrypoint()`, as ComfyUI's V3 packs do; its nodes cover the schema's input and
output types and options (`schema.py`, for `/object_info`), hidden values, `NodeOutput` with `ui`, lazy inputs,
async execution with progress, list inputs and outputs, expansion, blocking and custom validation (`nodes.py`).
It runs unchanged on ComfyUI 0.3.64, which is how tests/fixtures/comfyui/v3_pack was recorded.
"""

from comfy_api.latest import ComfyExtension, io

from . import nodes, schema


class KilnTestV3Extension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [*nodes.NODES, *schema.NODES]


async def comfy_entrypoint() -> KilnTestV3Extension:
    return KilnTestV3Extension()
